"""BatchNormalization: normalize with the batch's statistics in training and with
their moving averages in inference."""

from __future__ import annotations

import math

import torch

from lamina import initializers
from lamina.layers.call_context import call_context
from lamina.layers.docs import fill_docs
from lamina.layers.input_spec import InputSpec
from lamina.layers.normalization import renorm as batch_renorm
from lamina.layers.normalization.base_normalization import (
    ARGS,
    BaseNormalization,
    at_least_float32,
    broadcast_shape,
    cast,
    check_axis,
    known_sizes,
    resolve_axes,
)
from lamina.ops import normalization as norm
from lamina.saving.serialization import serialize_keras_object as serialize
from lamina.utils.validation import check_float, describe


@fill_docs(ARGS)
class BatchNormalization(BaseNormalization):
    """Normalizes its inputs per feature: ``gamma * (x - mean) / sqrt(var +
    epsilon) + beta``.

    **In training** (``fit``, or a call with ``training=True``) ``mean`` and
    ``var`` are the current batch's, over every axis but ``axis``, and the moving
    statistics move towards them::

        moving_mean = moving_mean * momentum + mean * (1 - momentum)
        moving_variance = moving_variance * momentum + var * (1 - momentum)

    with ``var`` the biased batch variance, as in Keras (torch's own BatchNorm
    uses the unbiased one for its running variance). **In inference** (the
    default) the moving statistics normalize, folded into one multiply-add
    ``x * (gamma / sqrt(moving_variance + epsilon)) + shift`` as torch's eval
    batch norm does: the same as Keras's ``(x - moving_mean) * ...`` to float32
    rounding of ``moving_mean * multiplier`` (far below 1e-5 unless the moving
    mean is thousands of standard deviations from zero).

    **Frozen** (``layer.trainable = False``): as in Keras, the layer then runs in
    inference mode even when called with ``training=True``, and its statistics
    stay as they are (the usual setting for fine-tuning).

    Args:
        axis: the feature axis (default -1; 1 after a channels_first
            convolution). A list of several axes normalizes per entry of those
            axes, with weights shaped like the input with 1 on the other axes, as
            tf.keras 2 did (Keras 3 takes one int; a list of one int is that int).
        momentum: momentum of the moving averages (default 0.99).
        {epsilon}
        {center}
        {scale}
        {gamma_beta_args}
        moving_mean_initializer, moving_variance_initializer: default
            ``"zeros"``, ``"ones"``.
        renorm: batch renormalization (adds ``moving_stddev``, ``renorm_mean``
            and ``renorm_stddev``); inference is unchanged.
        renorm_clipping: dict with optional ``"rmax"``, ``"rmin"``, ``"dmax"``
            bounding the renorm corrections ``r`` and ``d``.
        renorm_momentum: momentum of the renorm statistics (default 0.99).
        synchronized: in training under ``torch.distributed`` (an initialized
            process group of several processes), the statistics of the global
            batch: sums and counts are all-reduced over the processes, and so
            are the gradients through them. Alone, the local statistics.
            (Keras 3 accepts it on TensorFlow only; this follows TensorFlow.)
        {kwargs}

    Call arguments:
        inputs: a tensor of any rank.
        training: use (and move towards) the batch statistics.
        mask: optional boolean ``inputs.shape[:-1]``; in training only the
            True positions count towards the batch statistics.

    Input shape:
        Any; ``axis`` must exist. Output shape: the input shape.

    Weights:
        ``gamma`` (if ``scale``), ``beta`` (if ``center``), then the non-trainable
        ``moving_mean``, ``moving_variance`` (with ``renorm``: ``moving_stddev``,
        ``renorm_mean``, ``renorm_stddev``), each ``(input_shape[axis],)``.

    Raises:
        TypeError: ``axis`` not an int or list of ints.
        ValueError: ``momentum``/``renorm_momentum`` outside [0, 1], a negative
            ``epsilon``, a bad ``renorm_clipping``; at build, an axis out of
            range or of unknown size; a mask whose rank is not the input's - 1.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.BatchNormalization()
    >>> x = keras.ops.convert_to_tensor([[0.0, 4.0], [2.0, 8.0]])
    >>> print(keras.ops.convert_to_numpy(layer(x, training=True)).round(2))
    [[-1. -1.]
     [ 1.  1.]]
    >>> print(layer.moving_mean.numpy().round(2))
    [0.01 0.06]
    """

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        renorm=False,
        renorm_clipping=None,
        renorm_momentum=0.99,
        synchronized=False,
        **kwargs,
    ):
        super().__init__(
            epsilon=epsilon,
            center=center,
            scale=scale,
            beta_initializer=beta_initializer,
            gamma_initializer=gamma_initializer,
            beta_regularizer=beta_regularizer,
            gamma_regularizer=gamma_regularizer,
            beta_constraint=beta_constraint,
            gamma_constraint=gamma_constraint,
            **kwargs,
        )
        axis = check_axis(self, axis)
        self.axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
        self.momentum = check_float(self, "momentum", momentum, 0.0, 1.0)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.renorm = bool(renorm)
        self.renorm_clipping = (
            batch_renorm.check_clipping(self, renorm_clipping)
            if self.renorm
            else renorm_clipping
        )
        self.renorm_momentum = check_float(
            self, "renorm_momentum", renorm_momentum, 0.0, 1.0
        )
        self.synchronized = bool(synchronized)
        self.moving_mean = None
        self.moving_variance = None
        self._folded = None  # (key, (multiplier, shift)) of the inference path

    def build(self, input_shape):
        axes = resolve_axes(self, self.axis, input_shape)
        sizes = known_sizes(self, input_shape, axes)
        rank = len(input_shape)
        # One axis: weights (size,); several: the input's rank with 1 elsewhere.
        shape = sizes if len(axes) == 1 else tuple(broadcast_shape(rank, axes, sizes))
        self._axes = axes
        self._channels = math.prod(sizes)
        self._reduction_axes = tuple(a for a in range(rank) if a not in axes)
        self._broadcast = broadcast_shape(rank, axes, sizes)
        self._add_gamma_beta(shape, self.scale, self.center)
        self.moving_mean = self._statistic("moving_mean", shape)
        self.moving_variance = self._statistic("moving_variance", shape)
        if self.renorm:
            self.moving_stddev = self._statistic("moving_stddev", shape, sqrt=True)
            self.renorm_mean = self._statistic("renorm_mean", shape)
            self.renorm_stddev = self._statistic("renorm_stddev", shape, sqrt=True)
        self.input_spec = InputSpec(ndim=rank, axes={a: s for a, s in zip(axes, sizes)})
        self._folded_weights = [w for w in self.weights if w is not None]

    def _statistic(self, name, shape, sqrt=False):
        """A non-trainable statistic. The renorm ones draw from fresh copies of
        the moving ones' initializers (new seeds), the stddevs as the square root
        of a variance draw, as Keras does."""
        source = "mean" if name.endswith("mean") else "variance"
        initializer = getattr(self, f"moving_{source}_initializer")
        if name not in ("moving_mean", "moving_variance"):
            initializer = initializers.get(serialize(initializer))
        if sqrt:
            initializer = torch.sqrt(initializer(shape, dtype=torch.float32))
        return self.add_weight(
            shape=shape, name=name, initializer=initializer, trainable=False
        )

    # ------------------------------------------------------------------ call
    def call(self, inputs, training=None, mask=None):
        if mask is not None and mask.ndim != inputs.ndim - 1:
            raise ValueError(
                f"{describe(self)}: the mask must have one axis less than the "
                f"inputs; got mask shape {tuple(mask.shape)} for input shape "
                f"{tuple(inputs.shape)}."
            )
        # Statistics in float32 at least (half precision overflows), as Keras.
        x = at_least_float32(inputs)
        if training and self.trainable:
            outputs = self._train(x, mask)
        else:
            outputs = norm.affine(x, *self._folded_statistics(x.dtype))
        return cast(outputs, self._compute_torch_dtype)

    def _train(self, x, mask):
        gamma, beta = cast(self.gamma, x.dtype), cast(self.beta, x.dtype)
        all_reduce = norm.process_sum() if self.synchronized else None
        if (
            mask is None
            and all_reduce is None
            and not self.renorm
            and len(self._axes) == 1
            and x.numel() > self._channels
        ):
            outputs, mean, variance = norm.fused_batch_norm(
                x, self._axes[0], gamma, beta, self.epsilon
            )
        else:
            if mask is not None:
                mask = mask.unsqueeze(-1)
            mean, variance = norm.compute_stats(
                x, self._reduction_axes, mask, all_reduce
            )
            mean, variance = self._as_weight(mean), self._as_weight(variance)
            if self.renorm:
                r, d = batch_renorm.corrections(self, mean, variance)
                gamma, beta = batch_renorm.compose(r, d, gamma, beta)
            outputs = norm.normalize(
                x,
                self._spread(mean),
                self._spread(variance),
                self._spread(gamma),
                self._spread(beta),
                self.epsilon,
            )
        if not call_context.symbolic:
            self._update(mean.detach(), variance.detach())
        return outputs

    def _update(self, mean, variance) -> None:
        with torch.no_grad():
            if self.renorm:
                batch_renorm.update(self, mean, variance)
                return
            momentum = self.momentum
            moving = [self.moving_mean, self.moving_variance]
            if mean.dtype != self.moving_mean.dtype:  # float64 inputs: as Keras,
                for variable, value in zip(moving, (mean, variance)):  # in float64
                    variable.copy_(
                        variable.to(value.dtype) * momentum + value * (1.0 - momentum)
                    )
                return
            # Keras's `moving * momentum + batch * (1 - momentum)`, same rounding,
            # in three kernels for both statistics.
            torch._foreach_mul_(moving, momentum)
            torch._foreach_add_(
                moving, torch._foreach_mul([mean, variance], 1.0 - momentum)
            )

    def _folded_statistics(self, dtype):
        """``(multiplier, shift)`` of inference, remembered while no weight
        changes (``_version``) when no gradient, trace or compilation needs them
        recomputed."""
        if (
            torch.is_grad_enabled()
            or call_context.symbolic
            or torch.compiler.is_compiling()
            or torch._C._get_tracing_state()
        ):
            return self._fold(dtype)
        key = [dtype, self.moving_mean.data_ptr()]
        key += [w._version for w in self._folded_weights]
        if self._folded is None or self._folded[0] != key:
            self._folded = (key, self._fold(dtype))
        return self._folded[1]

    def _fold(self, dtype):
        mean, variance, gamma, beta = (
            cast(w, dtype)
            for w in (self.moving_mean, self.moving_variance, self.gamma, self.beta)
        )
        return norm.fold(
            self._spread(mean),
            self._spread(variance),
            self._spread(gamma),
            self._spread(beta),
            self.epsilon,
        )

    def _as_weight(self, statistic):
        """Statistics kept over the reduced axes, in the weights' shape."""
        return statistic.reshape(self.moving_mean.shape)

    # ---------------------------------------------------------------- config
    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            **self._gamma_beta_config(),
            "moving_mean_initializer": serialize(self.moving_mean_initializer),
            "moving_variance_initializer": serialize(self.moving_variance_initializer),
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }
