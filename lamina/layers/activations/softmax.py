"""Softmax: the softmax over one axis or several, with an optional mask."""

from __future__ import annotations

import torch

from lamina import activations
from lamina.layers.docs import fill_docs
from lamina.layers.layer import Layer
from lamina.utils.validation import arg_error, describe

_AXIS_RULE = "an int or a non-empty list of ints"


def large_negative(dtype: torch.dtype) -> float:
    """What masked logits become: -1e9, or -3e4 in float16 (Keras's values)."""
    return -3e4 if dtype == torch.float16 else -1e9


@fill_docs()
class Softmax(Layer):
    """Softmax: ``exp(x) / sum(exp(x))`` over ``axis``.

    Args:
        axis: int or list of ints, the axis (axes) normalized over (default -1).
        {kwargs}

    Call arguments:
        inputs: the logits.
        mask: optional, broadcastable to ``inputs`` (each axis 1 or the inputs'
            size, aligned on the right; not of higher rank). True (or > 0.5)
            keeps a position; masked positions get a large negative logit before
            the softmax (-1e9, -3e4 in float16) and 0 after it, so a fully masked
            row is all zeros. A mask attached by an upstream layer is used too,
            as in Keras.

    Input shape: any. Output shape: the same. Weights: none.

    Raises:
        ValueError: ``axis`` not an int or a list of ints (at construction); a
            mask that does not broadcast to the inputs (at call).

    Example:
    >>> import lamina as keras
    >>> x = keras.ops.convert_to_tensor([[1.0, 2.0, 1.0]])
    >>> [round(v, 4) for v in keras.layers.Softmax()(x)[0].tolist()]
    [0.2119, 0.5761, 0.2119]
    >>> mask = keras.ops.convert_to_tensor([[True, True, False]])
    >>> keras.layers.Softmax()(x, mask=mask)[0].tolist()[2]
    0.0
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = self._check_axis(axis)
        self.supports_masking = True
        self.built = True

    def _check_axis(self, axis):
        if isinstance(axis, (list, tuple)):
            if axis and all(_is_int(a) for a in axis):
                return list(axis)
        elif _is_int(axis):
            return axis
        raise arg_error(self, "axis", _AXIS_RULE, axis)

    def call(self, inputs, mask=None):
        axis = (
            self.axis[0]
            if isinstance(self.axis, list) and len(self.axis) == 1
            else self.axis
        )
        if mask is None:
            return activations.softmax(inputs, axis=axis)
        mask = self._boolean_mask(inputs, mask)
        inputs = torch.where(mask, inputs, large_negative(inputs.dtype))
        outputs = activations.softmax(inputs, axis=axis)
        return torch.where(mask, outputs, 0.0)

    def _boolean_mask(self, inputs, mask):
        mask = torch.as_tensor(mask, device=inputs.device)
        fits = mask.ndim <= inputs.ndim and all(
            m in (1, i) for m, i in zip(mask.shape[::-1], inputs.shape[::-1])
        )
        if not fits:
            raise ValueError(
                f"{describe(self)}: `mask` must broadcast to the inputs (no more "
                "axes than they have; each axis, aligned on the right, 1 or the "
                f"inputs' size); got mask shape {tuple(mask.shape)} for inputs of "
                f"shape {tuple(inputs.shape)}."
            )
        return mask if mask.dtype == torch.bool else mask > 0.5

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
