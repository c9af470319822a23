"""``pad_sequences`` (``keras.utils`` and ``keras.preprocessing.sequence``)."""

from __future__ import annotations

import numpy as np

from lamina.utils.validation import arg_error, check_choice


def _lengths_and_sample_shape(sequences):
    lengths, sample_shape = [], None
    for i, s in enumerate(sequences):
        try:
            lengths.append(len(s))
        except TypeError:
            raise ValueError(
                "pad_sequences: `sequences` must be a list of sequences (lists or "
                f"arrays); got the element {s!r} at position {i}."
            ) from None
        if sample_shape is None and len(s):
            sample_shape = np.asarray(s).shape[1:]
    return lengths, sample_shape or ()


def pad_sequences(
    sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0
):
    """Pads (or truncates) sequences to one length.

    Args:
        sequences: list of sequences (lists of numbers, or arrays whose first
            axis is time).
        maxlen: the output length; ``None``: the longest sequence's.
        dtype: output dtype (``object`` or a string dtype for text).
        padding: ``"pre"`` or ``"post"``: where to pad.
        truncating: ``"pre"`` or ``"post"``: where to cut longer sequences.
        value: the padding value.

    Returns:
        A NumPy array of shape ``(len(sequences), maxlen) + sample_shape``.

    Raises:
        ValueError: for a bad ``padding``/``truncating``, a string ``value``
            with a numeric ``dtype``, or samples of different shapes.

    Example:
    >>> import lamina as keras
    >>> keras.utils.pad_sequences([[1], [2, 3], [4, 5, 6]], maxlen=2)
    array([[0, 1],
           [2, 3],
           [5, 6]], dtype=int32)
    """
    owner = "pad_sequences"
    if not hasattr(sequences, "__len__"):
        raise arg_error(owner, "sequences", "a list of sequences", sequences)
    padding = check_choice(owner, "padding", padding, ("pre", "post"))
    truncating = check_choice(owner, "truncating", truncating, ("pre", "post"))
    lengths, sample_shape = _lengths_and_sample_shape(sequences)
    if maxlen is None:
        maxlen = int(np.max(lengths)) if lengths else 0
    elif isinstance(maxlen, bool) or int(maxlen) != maxlen or maxlen < 0:
        raise arg_error(owner, "maxlen", "None or an integer >= 0", maxlen)
    maxlen = int(maxlen)
    is_text = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_text:
        raise ValueError(
            f"pad_sequences: `dtype` must be `object` or a string dtype when "
            f"`value` is a string; got dtype={dtype!r} with value={value!r}."
        )
    x = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s) or not maxlen:
            continue
        kept = np.asarray(
            s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype
        )
        if kept.shape[1:] != sample_shape:
            raise ValueError(
                f"pad_sequences: every sequence's steps must have the shape "
                f"{sample_shape}; got steps of shape {kept.shape[1:]} in the "
                f"sequence at position {i}."
            )
        if padding == "post":
            x[i, : len(kept)] = kept
        else:
            x[i, -len(kept) :] = kept
    return x
