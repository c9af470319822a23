"""Conv1DTranspose: see ``BaseConvTranspose`` (lamina/layers/convolutional/base_conv_transpose.py)."""

from __future__ import annotations

from lamina.layers.convolutional.base_conv_transpose import BaseConvTranspose
from lamina.layers.convolutional.base_spatial import ARGS
from lamina.layers.docs import fill_docs


@fill_docs(ARGS)
class Conv1DTranspose(BaseConvTranspose):
    """1D transposed convolution (sometimes called deconvolution).

    TensorFlow's definition: the gradient (adjoint) of the ``1D`` convolution with
    the same arguments, so ``padding="same"`` with an odd kernel and ``strides > 1``
    crops the full result exactly as TensorFlow and Keras 3 do.

    Args:
        {filters}
        {kernel_size}
        {strides}
        {padding}
        {output_padding}
        {data_format}
        {dilation_rate}
        {activation}
        {use_bias}
        {kernel_args}
        {kwargs}

    Input shape:
        ``(batch, steps, channels)`` (channels_last) or
        ``(batch, channels, steps)`` (channels_first).

    Output shape:
        ``(batch, new_steps, filters)`` (channels_last) or
        ``(batch, filters, new_steps)``;
        {transpose_length}

    Weights:
        ``kernel`` ``(*kernel_size, filters, channels)``, then ``bias`` ``(filters,)``
        if ``use_bias``.

    Raises:
        {conv_raises}
        ValueError: an ``output_padding`` not less than its stride (construction).

    Example:
    >>> import lamina as keras
    >>> x = keras.ops.ones((4, 10, 3))
    >>> tuple(keras.layers.Conv1DTranspose(2, 3, strides=2, padding="same")(x).shape)
    (4, 20, 2)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            rank=1,
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            output_padding=output_padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )
