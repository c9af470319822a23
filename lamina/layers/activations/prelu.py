"""PReLU: a rectified linear unit whose negative slope is learned.

Keras computes ``relu(x) - alpha * relu(-x)``: five kernels forwards. torch's
fused PReLU kernel gives the same values in one pass (``alpha`` broadcast in any
layout), ten times faster; its backward, though, is slow with a broadcast
``alpha`` and gives the input gradient ``alpha`` at ``x == 0`` where Keras (and
TensorFlow) give 0. ``prelu`` runs the fused forward and Keras's gradients from
torch's relu backward (bench/cases_merging.py: faster than both).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lamina.layers.docs import fill_docs
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.weight_options import (
    set_weight_options,
    weight_options,
    weight_options_config,
)
from lamina.utils.validation import arg_error, shape_error


class _PReLU(torch.autograd.Function):
    """``x`` where ``x > 0``, ``alpha * x`` elsewhere, with the gradients of
    Keras's formula (none for the input at 0)."""

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.save_for_backward(x, alpha)
        return torch._prelu_kernel(x, alpha)

    @staticmethod
    def backward(ctx, grad):
        x, alpha = ctx.saved_tensors
        grad_x = grad_alpha = None
        if ctx.needs_input_grad[0]:
            # relu(x)' + alpha * relu(-x)': torch's relu backward, twice.
            grad_x = _relu_backward(grad, x, 0) + alpha * _relu_backward(
                grad, x.neg(), 0
            )
        if ctx.needs_input_grad[1]:  # d/dalpha of -alpha * relu(-x) is min(x, 0)
            grad_alpha = (torch.clamp(x, max=0) * grad).sum_to_size(alpha.shape)
        return grad_x, grad_alpha


_relu_backward = torch.ops.aten.threshold_backward


def prelu(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Keras's ``relu(x) - alpha * relu(-x)`` (``alpha`` broadcast to ``x``) on
    torch's fused kernels, with Keras's gradients.

    >>> x = torch.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    >>> y = prelu(x, torch.tensor([0.5]))
    >>> y.sum().backward()
    >>> y.tolist(), x.grad.tolist()
    ([-1.0, 0.0, 3.0], [0.5, 0.0, 1.0])
    """
    if torch._C._are_functorch_transforms_active() or x.dtype != alpha.dtype:
        return F.relu(x) - alpha * F.relu(-x)
    if torch.is_grad_enabled() and (x.requires_grad or alpha.requires_grad):
        return _PReLU.apply(x, alpha)
    return torch._prelu_kernel(x, alpha)


_SHARED_AXES_RULE = "None, an int or a list of ints >= 1 (axes after the batch axis)"


@fill_docs(
    {
        "alpha_args": """alpha_initializer: initializer of ``alpha`` (default
    ``"zeros"``).
alpha_regularizer, alpha_constraint: optional.""",
    }
)
class PReLU(Layer):
    """Parametric rectified linear unit: ``x`` for ``x >= 0``, ``alpha * x``
    otherwise, with ``alpha`` learned for every input entry, or shared along
    ``shared_axes``.

    Computed as Keras does, ``relu(x) - alpha * relu(-x)``: the gradient at
    ``x == 0`` is 0, for the input and for ``alpha``.

    Args:
        {alpha_args}
        shared_axes: axes (after the batch axis) along which one ``alpha`` is
            shared, e.g. ``[1, 2]`` for one slope per channel of
            ``(batch, height, width, channels)`` images. Default None: none.
        {kwargs}

    Input shape:
        Any, ``(batch, ...)``, with known sizes on the axes not shared.
        Output shape: the same.

    Weights:
        ``alpha``: the input shape without its batch axis, with 1 on each shared
        axis.

    Raises:
        ValueError: ``shared_axes`` not ints >= 1 (at construction); a shared
            axis beyond the input's rank or an unknown size on an axis not shared
            (at build).

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.PReLU(alpha_initializer="ones", shared_axes=[1, 2])
    >>> tuple(layer(keras.ops.ones((2, 4, 4, 3))).shape), tuple(layer.alpha.shape)
    ((2, 4, 4, 3), (1, 1, 3))
    """

    def __init__(
        self,
        alpha_initializer="Zeros",
        alpha_regularizer=None,
        alpha_constraint=None,
        shared_axes=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        set_weight_options(
            self, "alpha", alpha_initializer, alpha_regularizer, alpha_constraint
        )
        self.shared_axes = self._check_shared_axes(shared_axes)
        self.supports_masking = True

    def _check_shared_axes(self, shared_axes):
        if shared_axes is None:
            return None
        axes = (
            list(shared_axes)
            if isinstance(shared_axes, (list, tuple))
            else [shared_axes]
        )
        for axis in axes:
            if isinstance(axis, bool) or not isinstance(axis, int) or axis < 1:
                raise arg_error(self, "shared_axes", _SHARED_AXES_RULE, shared_axes)
        return axes

    def build(self, input_shape):
        shared = set(self.shared_axes or ())
        rank = len(input_shape)
        if shared and max(shared) >= rank:
            raise shape_error(
                self,
                f"inputs of rank > {max(shared)} for shared_axes={sorted(shared)}",
                tuple(input_shape),
            )
        param_shape = [1 if i in shared else d for i, d in enumerate(input_shape)][1:]
        if None in param_shape:
            raise shape_error(
                self,
                "known sizes on every axis after the batch axis that is not in "
                "`shared_axes` (alpha has one entry per position)",
                tuple(input_shape),
            )
        self.alpha = self.add_weight(
            shape=param_shape, name="alpha", **weight_options(self, "alpha")
        )
        axes = {i: input_shape[i] for i in range(1, rank) if i not in shared}
        self.input_spec = InputSpec(ndim=rank, axes=axes)

    def call(self, inputs):
        return prelu(inputs, self.alpha)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(weight_options_config(self, "alpha"))
        config["shared_axes"] = self.shared_axes
        return config
