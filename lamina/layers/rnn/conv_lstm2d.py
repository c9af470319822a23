"""ConvLSTM2D: see ``BaseConvLSTM`` (lamina/layers/rnn/conv_lstm.py)."""

from __future__ import annotations

from lamina.layers.docs import fill_docs
from lamina.layers.rnn.conv_lstm import ARGS, BaseConvLSTM


@fill_docs(ARGS)
class ConvLSTM2D(BaseConvLSTM):
    """2D convolutional LSTM over sequences of images (video, weather maps): an
    LSTM whose input and recurrent transformations are 2D convolutions (Shi et
    al., 2015).

    The input convolution runs for all timesteps at once; the recurrent one
    (stride 1, ``"same"`` padding) once per step.

    Args:
        {filters}
        {kernel_size}
        {strides}
        {padding}
        {sequence_data_format}
        {dilation_rate}
        {lstm_activations}
        {use_bias}
        {lstm_weight_args}
        {lstm_dropout}
        {rnn_flags}
        {rnn_kwargs}

    Call arguments:
        {conv_lstm_call}

    Input shape:
        ``(batch, time, rows, cols, channels)`` (channels_last) or
        ``(batch, time, channels, rows, cols)`` (channels_first).

    Output shape:
        With ``return_sequences``:
        ``(batch, time, new_rows, new_cols, filters)`` (channels_last) or
        ``(batch, time, filters, new_rows, new_cols)``; else
        ``(batch, new_rows, new_cols, filters)`` or
        ``(batch, filters, new_rows, new_cols)``.
        With ``return_state`` h and c follow, each of the last shape. Per
        spatial axis, with ``k' = (kernel_size - 1) * dilation_rate + 1``:
        ``ceil((n - k' + 1) / strides)`` for ``"valid"``, ``ceil(n / strides)``
        for ``"same"``.

    Weights:
        {conv_lstm_weights}

    Raises:
        {conv_lstm_raises}

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.ConvLSTM2D(8, 3, return_sequences=True)
    >>> tuple(layer(keras.ops.ones((4, 6, 10, 10, 3))).shape)
    (4, 6, 8, 8, 8)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        **kwargs,
    ):
        # Grouped, not one argument a line: Keras's 28 arguments twice (signature
        # and call) would pass the size budget of a function.
        # fmt: off
        super().__init__(
            rank=2, filters=filters, kernel_size=kernel_size, strides=strides,
            padding=padding, data_format=data_format, dilation_rate=dilation_rate,
            activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed,
            return_sequences=return_sequences, return_state=return_state,
            go_backwards=go_backwards, stateful=stateful, **kwargs,
        )
        # fmt: on
