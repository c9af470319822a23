"""Image and audio preprocessing beyond the oracle cases: STFTSpectrogram
against NumPy and its kernels against Keras's, bounding boxes and segmentation masks
against Keras with the same transformation, dict and unbatched inputs, a
DataLoader with workers, and a model with augmentation saved to ``.keras`` and
loaded in Keras 3 and back."""

import os

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina.layers.preprocessing.image import histogram
from tests.cases_preprocessing_image import copy


# --------------------------------------------------------------- STFT vs NumPy
def _stft_reference(x, frame_length, step, fft_length, window):
    """``(batch, frames, channels * freqs)`` real and imaginary parts."""
    w = np.ones(frame_length)  # window=None: no window, no scaling
    if window == "hann":
        w = np.hanning(frame_length)
        w = w / np.sqrt(np.sum(w**2))  # scaling="density"
    starts = range(0, x.shape[1] - frame_length + 1, step)
    frames = np.stack([x[:, s : s + frame_length, :] for s in starts], axis=1)
    spectrum = np.fft.rfft(frames * w[:, None], n=fft_length, axis=2)
    batch, count = spectrum.shape[:2]
    # (batch, frames, freqs, channels) -> channels outer, as Keras flattens them
    flat = spectrum.transpose(0, 1, 3, 2).reshape(batch, count, -1)
    return flat.real, flat.imag


@pytest.mark.parametrize("window", ["hann", None])
def test_stft_spectrogram_matches_numpy(window):
    x = np.random.default_rng(0).uniform(size=(2, 40, 2)).astype("float32")
    real, imag = _stft_reference(x.astype("float64"), 8, 4, 8, window)
    for mode, expected in [
        ("real", real),
        ("imag", imag),
        ("magnitude", np.hypot(real, imag)),
        ("log", np.log(np.hypot(real, imag))),
        ("angle", np.arctan2(imag, real)),
    ]:
        layer = lamina.layers.STFTSpectrogram(
            mode=mode, frame_length=8, frame_step=4, window=window
        )
        actual = layer(x).detach().numpy()
        atol = 2e-5
        if mode == "angle":  # -pi and pi are one angle; tiny parts wobble it
            actual, expected, atol = np.exp(1j * actual), np.exp(1j * expected), 1e-4
        np.testing.assert_allclose(actual, expected, atol=atol, err_msg=mode)


STFT_WINDOWS = ["hann", "hamming", "blackman", "bartlett", "boxcar", "cosine",
                "nuttall", "blackmanharris", "flattop", None]  # fmt: skip


def _stft_kernel_settings():
    custom = np.linspace(0.5, 1.0, 10).tolist()
    for window in [*STFT_WINDOWS, custom]:
        for periodic in (False, True):
            yield window, periodic, "density"
    for scaling in ("spectrum", None):  # scaling does not depend on the window
        yield "hann", False, scaling


def test_stft_kernels_match_keras_for_every_window():
    # The oracle cases copy Keras's weights: lamina's own kernels (its windows,
    # computed without scipy) are compared here.
    for window, periodic, scaling in _stft_kernel_settings():
        kwargs = {"frame_length": 10, "fft_length": 16, "mode": "stft",
                  "window": window, "periodic": periodic, "scaling": scaling}  # fmt: skip
        ours = lamina.layers.STFTSpectrogram(**kwargs)
        theirs = keras.layers.STFTSpectrogram(**kwargs)
        ours.build((None, 40, 1))
        theirs.build((None, 40, 1))
        for a, b in zip(ours.weights, theirs.weights, strict=True):
            np.testing.assert_allclose(
                a.numpy(), keras.ops.convert_to_numpy(b), atol=1e-6,
                err_msg=f"{window} {periodic} {scaling} {a.name}",
            )  # fmt: skip


def test_stft_spectrogram_layouts_and_weights():
    x = np.random.default_rng(1).uniform(size=(2, 40, 3)).astype("float32")
    last = lamina.layers.STFTSpectrogram(mode="stft", frame_length=8, expand_dims=True)
    first = lamina.layers.STFTSpectrogram(
        mode="stft", frame_length=8, expand_dims=True, data_format="channels_first"
    )
    out_last = last(x).detach().numpy()  # (batch, frames, 2 * freqs, channels)
    out_first = (
        first(x.transpose(0, 2, 1)).detach().numpy()
    )  # (batch, channels, frames, f)
    assert out_last.shape == (2, 9, 10, 3)
    np.testing.assert_allclose(out_first, out_last.transpose(0, 3, 1, 2), atol=1e-6)
    assert [w.name for w in last.weights] == ["real_kernel", "imag_kernel"]
    assert last.compute_output_shape((None, 40, 3)) == (None, 9, 10, 3)
    psd = lamina.layers.STFTSpectrogram(mode="psd", frame_length=8)(x).detach().numpy()
    power = np.hypot(*_stft_reference(x.astype("float64"), 8, 4, 8, "hann")) ** 2
    power = power.reshape(2, 9, 3, 5)
    power[..., 1:-1] *= 2  # one-sided spectrum: inner bins count twice
    np.testing.assert_allclose(psd, power.reshape(2, 9, 15), atol=2e-5)


# ------------------------------------------------------------ bounding boxes
BOXES = {
    "boxes": np.array(
        [
            [[1.0, 1.0, 4.0, 3.0], [0.0, 2.0, 6.0, 5.0]],
            [[2.0, 0.0, 5.0, 5.0], [3.0, 3.0, 4.0, 4.0]],
        ],
        dtype="float32",
    ),  # fmt: skip
    "labels": np.array([[1, 2], [3, 4]], dtype="int32"),
}

BOX_LAYERS = [
    ("RandomFlip", {"seed": 1}),
    ("RandomFlip", {"mode": "vertical", "seed": 2}),
    ("RandomRotation", {"factor": 0.2, "seed": 1}),
    ("RandomTranslation", {"height_factor": 0.3, "width_factor": 0.3, "seed": 1}),
    ("RandomZoom", {"height_factor": 0.3, "width_factor": (-0.3, 0.2), "seed": 1}),
    ("Resizing", {"height": 4, "width": 9}),
    ("Resizing", {"height": 4, "width": 9, "pad_to_aspect_ratio": True}),
    ("Resizing", {"height": 4, "width": 9, "crop_to_aspect_ratio": True}),
    ("CenterCrop", {"height": 4, "width": 5}),
    ("RandomPerspective", {"scale": 0.3, "seed": 1}),
]


def _keras_boxes(value):
    return {k: keras.ops.convert_to_numpy(v) for k, v in value.items()}


# Keras rotates the given boxes as xyxy whatever their format, and returns
# perspective-warped boxes as xyxy: xyxy only there.
BOX_CASES = [
    (name, kwargs, fmt)
    for name, kwargs in BOX_LAYERS
    for fmt in ("xyxy", "rel_xyxy")
    if fmt == "xyxy" or name not in ("RandomRotation", "RandomPerspective")
]


@pytest.mark.parametrize("name,kwargs,fmt", BOX_CASES, ids=str)
def test_bounding_boxes_follow_the_transformation_as_in_keras(name, kwargs, fmt):
    images = np.random.default_rng(0).uniform(size=(2, 6, 7, 3)).astype("float32")
    boxes = dict(BOXES)
    if fmt == "rel_xyxy":
        boxes["boxes"] = boxes["boxes"] / np.array([7, 6, 7, 6], dtype="float32")
    ours = getattr(lamina.layers, name)(bounding_box_format=fmt, **kwargs)
    theirs = getattr(keras.layers, name)(bounding_box_format=fmt, **kwargs)
    transformation = theirs.get_random_transformation(images, training=True)
    expected = theirs.transform_bounding_boxes(
        {k: torch.tensor(v) for k, v in boxes.items()}, copy(transformation)
    )
    actual = ours.transform_bounding_boxes(
        {k: torch.tensor(v) for k, v in boxes.items()}, copy(transformation)
    )
    expected = _keras_boxes(expected)
    np.testing.assert_allclose(actual["boxes"].numpy(), expected["boxes"], atol=1e-4)
    np.testing.assert_array_equal(actual["labels"].numpy(), expected["labels"])


@pytest.mark.parametrize("name", ["RandomRotation", "RandomPerspective"])
def test_boxes_in_other_formats_move_like_xyxy_boxes(name):
    # Keras reads rotated boxes as xyxy whatever the format, and returns
    # perspective-warped ones as xyxy: lamina converts, as its other layers do.
    images = np.zeros((2, 6, 7, 3), "float32")
    kwargs = {"factor": 0.2} if name == "RandomRotation" else {"scale": 0.3}
    transformation = getattr(keras.layers, name)(seed=1, **kwargs)
    transformation = transformation.get_random_transformation(images, training=True)
    xyxy = getattr(lamina.layers, name)(bounding_box_format="xyxy", **kwargs)
    centred = getattr(lamina.layers, name)(bounding_box_format="center_xywh", **kwargs)
    expected = xyxy.transform_bounding_boxes(
        {k: torch.tensor(v) for k, v in BOXES.items()}, copy(transformation)
    )["boxes"]
    boxes = lamina.utils.bounding_boxes.convert_format(
        BOXES["boxes"], "xyxy", "center_xywh"
    )
    actual = centred.transform_bounding_boxes(
        {"boxes": boxes, "labels": torch.tensor(BOXES["labels"])}, copy(transformation)
    )["boxes"]
    actual = lamina.utils.bounding_boxes.convert_format(actual, "center_xywh", "xyxy")
    np.testing.assert_allclose(actual.numpy(), expected.numpy(), atol=1e-4)


def test_random_crop_moves_boxes_into_the_window():
    # Keras 3.15 subtracts the row offset from x and the column offset from y
    # (and clips nothing): lamina moves boxes into the window and clips them.
    layer = lamina.layers.RandomCrop(3, 4, bounding_box_format="xyxy", seed=1)
    out = layer.transform_bounding_boxes(
        {k: torch.tensor(v) for k, v in BOXES.items()}, (1, 2)
    )
    expected = np.array(
        [[[0, 0, 2, 2], [0, 1, 4, 3]], [[0, 0, 3, 3], [1, 2, 2, 3]]], "float32"
    )
    np.testing.assert_array_equal(out["boxes"].numpy(), expected)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("RandomRotation", {"factor": 0.3, "seed": 1}),
        ("RandomZoom", {"height_factor": 0.4, "seed": 1}),
        ("RandomFlip", {"seed": 1}),
    ],
    ids=str,
)
def test_segmentation_masks_use_nearest_as_in_keras(name, kwargs):
    masks = np.random.default_rng(2).integers(0, 4, (2, 6, 7, 1)).astype("float32")
    ours = getattr(lamina.layers, name)(**kwargs)
    theirs = getattr(keras.layers, name)(**kwargs)
    transformation = theirs.get_random_transformation(masks, training=True)
    expected = theirs.transform_segmentation_masks(
        torch.tensor(masks), copy(transformation)
    )
    actual = ours.transform_segmentation_masks(
        torch.tensor(masks), copy(transformation)
    )
    np.testing.assert_array_equal(actual.numpy(), keras.ops.convert_to_numpy(expected))


def test_dict_inputs_batched_and_unbatched():
    layer = lamina.layers.RandomRotation(0.2, bounding_box_format="xyxy", seed=3)
    images = np.random.default_rng(0).uniform(size=(2, 6, 7, 3)).astype("float32")
    data = {
        "images": images,
        "labels": np.array([0, 1]),
        "bounding_boxes": BOXES,
        "segmentation_masks": np.zeros((2, 6, 7, 1), "float32"),
    }
    out = layer(data, training=True)
    assert tuple(out["images"].shape) == (2, 6, 7, 3)
    assert tuple(out["bounding_boxes"]["boxes"].shape) == (2, 2, 4)
    assert tuple(out["segmentation_masks"].shape) == (2, 6, 7, 1)
    one = {
        "images": images[0],
        "bounding_boxes": {k: v[0] for k, v in BOXES.items()},
    }
    out = layer(one, training=True)
    assert tuple(out["images"].shape) == (6, 7, 3)
    assert tuple(out["bounding_boxes"]["boxes"].shape) == (2, 4)
    same = layer(one, training=False)
    np.testing.assert_array_equal(same["images"].numpy(), images[0])


def test_boxes_without_a_format_raise():
    layer = lamina.layers.RandomFlip(seed=1)
    data = {"images": np.zeros((1, 4, 4, 3), "float32"), "bounding_boxes": BOXES}
    with pytest.raises(ValueError, match="`bounding_box_format`"):
        layer(data, training=True)


def test_direct_calls_train_models_do_not():
    images = np.arange(8 * 16, dtype="float32").reshape(8, 4, 4, 1)
    layer = lamina.layers.RandomFlip(seed=1)
    assert not np.array_equal(layer(images).numpy(), images)  # as keras: training
    model = lamina.Sequential([lamina.Input((4, 4, 1)), layer])
    np.testing.assert_array_equal(model.predict(images, verbose=0), images)


# ------------------------------------------------------- outside a model
class _FlippedImages(torch.utils.data.Dataset):
    def __init__(self):
        self.images = np.arange(6 * 16, dtype="float32").reshape(6, 4, 4, 1)
        self.flip = lamina.layers.RandomFlip("horizontal", seed=0)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return self.flip(self.images[index], training=True)


def test_augmentation_in_dataloader_workers():
    loader = torch.utils.data.DataLoader(_FlippedImages(), batch_size=3, num_workers=2)
    batches = list(loader)
    assert [tuple(b.shape) for b in batches] == [(3, 4, 4, 1), (3, 4, 4, 1)]
    source = _FlippedImages().images
    for got, image in zip(torch.cat(batches).numpy(), source):
        assert np.array_equal(got, image) or np.array_equal(got, image[:, ::-1])


# ------------------------------------------------------------ saving
def _augmenting_model(library):
    layers = library.layers
    return library.Sequential(
        [
            library.Input((8, 8, 3)),
            layers.Rescaling(1 / 255.0),
            layers.RandomFlip(seed=1),
            layers.RandomRotation(0.1, seed=2),
            layers.RandomZoom(0.2, seed=3),
            layers.RandomContrast(0.2, value_range=(0, 1), seed=4),
            layers.Resizing(6, 6),
            layers.Conv2D(2, 3),
        ]
    )


def test_augmenting_model_saves_and_loads_both_ways(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3)).astype("float32")
    ours = _augmenting_model(lamina)
    expected = ours.predict(images, verbose=0)
    path = os.path.join(tmp_path, "ours.keras")
    ours.save(path)
    theirs = keras.saving.load_model(path)
    np.testing.assert_allclose(theirs.predict(images, verbose=0), expected, atol=1e-5)
    path = os.path.join(tmp_path, "theirs.keras")
    theirs.save(path)
    again = lamina.saving.load_model(path)
    np.testing.assert_allclose(again.predict(images, verbose=0), expected, atol=1e-5)


def test_max_num_bounding_boxes_pads_and_truncates_as_keras():
    for max_number in (1, 4):
        ours = lamina.layers.MaxNumBoundingBoxes(max_number, bounding_box_format="xyxy")
        theirs = keras.layers.MaxNumBoundingBoxes(
            max_number, bounding_box_format="xyxy"
        )
        boxes = {k: torch.tensor(v) for k, v in BOXES.items()}
        expected = _keras_boxes(theirs.transform_bounding_boxes(dict(boxes), None))
        actual = ours.transform_bounding_boxes(dict(boxes), None)
        for key in ("boxes", "labels"):
            np.testing.assert_array_equal(actual[key].numpy(), expected[key])


@pytest.mark.parametrize("name", ["MixUp", "CutMix"])
def test_mixed_labels_follow_the_images_as_in_keras(name):
    images = np.random.default_rng(0).uniform(size=(4, 6, 7, 3)).astype("float32")
    labels = np.eye(4, dtype="float32")
    ours = getattr(lamina.layers, name)(seed=1)
    theirs = getattr(keras.layers, name)(seed=1)
    transformation = theirs.get_random_transformation(images, training=True)
    expected = theirs.transform_labels(torch.tensor(labels), copy(transformation))
    actual = ours.transform_labels(torch.tensor(labels), copy(transformation))
    np.testing.assert_allclose(
        actual.numpy(), keras.ops.convert_to_numpy(expected), atol=1e-6
    )


def test_clahe_with_a_fractional_clip_level_matches_numpy():
    # One tile: CLAHE is clipped-histogram equalization. Clip level 4 * 36 / 256
    # = 0.5625 (Keras on torch truncates it to 0: see the cases module).
    images = np.random.default_rng(3).integers(90, 140, (1, 6, 6, 1)).astype("float32")
    hist = np.bincount(images.astype(int).ravel(), minlength=256).astype("float64")
    clipped = np.minimum(hist, 4 * 36 / 256)
    cdf = np.cumsum(clipped + (hist - clipped).sum() / 256)
    table = np.clip((cdf - cdf.min()) * 255 / (36 - cdf.min()), 0, 255)
    layer = lamina.layers.ContrastLimitedAdaptiveHistogramEqualization(
        tile_grid_size=(1, 1)
    )
    np.testing.assert_allclose(
        layer(images).numpy(), table[images.astype(int)], atol=1e-3
    )


def test_clahe_pads_tiles_symmetrically_as_tensorflow():
    images = np.arange(2 * 5 * 4 * 3, dtype="float32").reshape(2, 5, 4, 3)
    padded = histogram._symmetric_pad(torch.tensor(images), 1, 2).numpy()
    expected = np.pad(images, [(0, 0), (0, 1), (0, 2), (0, 0)], mode="symmetric")
    np.testing.assert_array_equal(padded, expected)
