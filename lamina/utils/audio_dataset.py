"""``audio_dataset_from_directory``: a folder of ``.wav`` files as a dataset."""

from __future__ import annotations

import wave

import numpy as np
import torch
import torch.nn.functional as F

from lamina.utils import dataset_utils
from lamina.utils.validation import arg_error

_SCALES = {1: 128.0, 2: 32768.0, 3: 8388608.0, 4: 2147483648.0}


def read_wav(path):
    """``(samples, rate)``: float32 ``(frames, channels)`` in [-1, 1) from a PCM
    WAV file (8-bit unsigned, 16/24/32-bit signed), as ``tf.audio.decode_wav``
    scales 16-bit audio (``value / 32768``)."""
    with wave.open(str(path), "rb") as f:
        width, channels, rate = f.getsampwidth(), f.getnchannels(), f.getframerate()
        raw = f.readframes(f.getnframes())
    if width == 1:
        values = np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0
    elif width == 3:
        triples = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        values = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        values = np.where(values >= 1 << 23, values - (1 << 24), values).astype(
            np.float32
        )
    else:
        values = np.frombuffer(raw, {2: "<i2", 4: "<i4"}[width]).astype(np.float32)
    return (values / _SCALES[width]).reshape(-1, channels), rate


def resample(audio, rate_in, rate_out):
    """``(frames, channels)`` audio resampled by the Fourier method (band-limited:
    the spectrum is cut or zero-padded); ``tensorflow-io``, which Keras uses, has
    its own filter, so values differ slightly."""
    frames = audio.shape[0]
    new_frames = int(round(frames * rate_out / rate_in))
    if new_frames == frames or frames == 0:
        return audio
    spectrum = torch.fft.rfft(audio, dim=0)
    keep = min(spectrum.shape[0], new_frames // 2 + 1)
    out = torch.zeros((new_frames // 2 + 1, audio.shape[1]), dtype=spectrum.dtype)
    out[:keep] = spectrum[:keep]
    return torch.fft.irfft(out, n=new_frames, dim=0) * (new_frames / frames)


class AudioLoader:
    """One WAV file as float32 ``(frames, channels)``: resampled to
    ``sampling_rate`` when given, cut or zero-padded to ``output_sequence_length``
    frames when given (picklable, for ``DataLoader`` workers)."""

    def __init__(self, sampling_rate=None, output_sequence_length=None):
        self.sampling_rate = sampling_rate
        self.output_sequence_length = output_sequence_length

    def __call__(self, path):
        values, rate = read_wav(path)
        audio = torch.from_numpy(np.ascontiguousarray(values))
        if self.sampling_rate is not None:
            audio = resample(audio, rate, self.sampling_rate)
        length = self.output_sequence_length
        if length is not None:
            audio = F.pad(audio[:length], (0, 0, 0, max(0, length - audio.shape[0])))
        return audio


class PadBatch:
    """Stacks audio clips, zero-padding them to the longest of the batch
    (``tf.data``'s ``padded_batch``), or keeps them as a list (``ragged``)."""

    def __init__(self, ragged=False):
        self.ragged = ragged

    def __call__(self, samples):
        labelled = isinstance(samples[0], tuple)
        clips = [s[0] for s in samples] if labelled else list(samples)
        if not self.ragged:
            longest = max(c.shape[0] for c in clips)
            clips = torch.stack(
                [F.pad(c, (0, 0, 0, longest - c.shape[0])) for c in clips]
            )
        if labelled:
            return clips, torch.stack([s[1] for s in samples])
        return clips


def _check_audio_args(owner, sampling_rate, output_sequence_length, ragged):
    if ragged and output_sequence_length is not None:
        raise ValueError(
            f"{owner}: `ragged` and `output_sequence_length` cannot both be given; "
            f"got ragged=True and output_sequence_length={output_sequence_length!r}."
        )
    for arg, value in (("sampling_rate", sampling_rate),
                       ("output_sequence_length", output_sequence_length)):  # fmt: skip
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value <= 0
        ):
            raise arg_error(owner, arg, "None or an integer > 0", value)


def audio_dataset_from_directory(
    directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
    sampling_rate=None, output_sequence_length=None, ragged=False, shuffle=True,
    seed=None, validation_split=None, subset=None, follow_links=False, verbose=True,
    num_workers=0,
):  # fmt: skip
    """A dataset of batches of audio clips (and labels) from a folder of ``.wav``
    files.

    Folders, labels, subsets and file order follow
    ``image_dataset_from_directory``'s rules (Keras's).

    Args:
        directory: the folder (one subfolder per class with
            ``labels="inferred"``).
        labels: ``"inferred"``, ``None``, or one integer label per file.
        label_mode: ``"int"``, ``"categorical"``, ``"binary"`` or ``None``.
        class_names: the classes to use, in order.
        batch_size: clips per batch; ``None`` yields single clips.
        sampling_rate: resample every clip to this rate (Hz).
        output_sequence_length: cut or zero-pad every clip to this many frames;
            ``None``: clips are zero-padded to the longest of their batch.
        ragged: keep clips at their own lengths: a batch is a list of
            ``(frames, channels)`` tensors (torch has no ragged tensors).
        shuffle: shuffle (a new order each epoch); otherwise alphanumeric order.
        seed: the seed of the shuffles and of ``validation_split``.
        validation_split: the fraction kept for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"``.
        follow_links: follow symbolic links to folders.
        verbose: print how many files and classes were found.
        num_workers: lamina's addition: ``DataLoader`` worker processes.

    Returns:
        A ``BatchLoader`` yielding ``(audio, labels)``; audio float32
        ``(batch, frames, channels)`` scaled to [-1, 1) as
        ``tf.audio.decode_wav`` scales it. Keras needs ``tensorflow-io`` for
        ``sampling_rate``; lamina resamples with the Fourier method (other
        numbers than tensorflow-io's filter).

    Example:
    >>> import numpy as np, os, tempfile, wave, lamina as keras
    >>> root = tempfile.mkdtemp()
    >>> os.mkdir(os.path.join(root, "beep"))
    >>> with wave.open(os.path.join(root, "beep", "a.wav"), "wb") as f:
    ...     f.setnchannels(1); f.setsampwidth(2); f.setframerate(8000)
    ...     f.writeframes(np.zeros(100, "<i2").tobytes())
    >>> ds = keras.utils.audio_dataset_from_directory(root, verbose=False, seed=0)
    >>> audio, labels = next(iter(ds))
    >>> tuple(audio.shape), labels.tolist()
    ((1, 100, 1), [0])
    """
    owner = "audio_dataset_from_directory"
    labels, label_mode = dataset_utils.check_labels_arguments(
        owner, labels, label_mode, class_names
    )
    _check_audio_args(owner, sampling_rate, output_sequence_length, ragged)
    dataset_utils.check_validation_split_arg(
        validation_split, subset, shuffle, seed, owner
    )
    dataset_utils.check_num_workers(owner, num_workers)
    seed = np.random.randint(1e6) if seed is None else seed
    paths, labels, class_names = dataset_utils.index_directory(
        directory, labels, (".wav",), class_names, shuffle, seed, follow_links,
        verbose, owner,
    )  # fmt: skip
    dataset_utils.check_binary(owner, label_mode, class_names)
    load = AudioLoader(sampling_rate, output_sequence_length)
    num_classes = len(class_names) if class_names else 0

    def build(part_paths, part_labels, training):
        samples = dataset_utils.FileDataset(part_paths, load, part_labels, label_mode,
                                            num_classes)  # fmt: skip
        return dataset_utils.BatchLoader(
            samples, batch_size, shuffle=shuffle and training, seed=seed,
            collate_fn=PadBatch(ragged) if batch_size is not None else None,
            num_workers=num_workers, class_names=class_names,
            file_paths=list(part_paths),
        )  # fmt: skip

    return dataset_utils.make_subsets(owner, "audio", directory, paths, labels,
                                      validation_split, subset, build)  # fmt: skip
