"""ConvLSTM beyond its oracle cases (tests/cases_convlstm.py): stateful calls and
one cell step against Keras 3, strides with dilation (Keras refuses them; its own
arithmetic, unlocked, is the reference), symbolic shapes, errors, the work done
per step, and .keras files both ways."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from keras.src.layers.rnn.conv_lstm import ConvLSTMCell as KerasConvLSTMCell

import lamina
from lamina.layers.rnn import conv_lstm
from lamina.layers.rnn.conv_lstm import ConvLSTMCell
from tests.oracle_inputs import to_numpy

RNG = np.random.default_rng(0)
SEQ = (2, 3, 5, 6, 2)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # Tiny tensors: on a loaded machine oneDNN's threads only wait on each other
    # (a 6x6 convolution takes 30 ms on 2 busy threads, 0.1 ms on one).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _x(shape=SEQ):
    return torch.as_tensor(RNG.standard_normal(shape).astype("float32"))


def _close(ours, theirs, atol=1e-5):
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), atol=atol, rtol=1e-5)


def test_stateful_carries_states_across_calls_and_resets_like_keras():
    def build(k):
        return k.layers.ConvLSTM2D(
            3, 3, padding="same", stateful=True, return_state=True
        )

    ours, theirs = build(lamina), build(keras)
    x1, x2 = _x(), _x()
    ours(x1)
    theirs(x1)
    ours.set_weights(theirs.get_weights())
    ours.reset_states()
    theirs.reset_states()
    for x in (x1, x2, "reset", x1):
        if isinstance(x, str):
            ours.reset_states()
            theirs.reset_states()
            continue
        for a, b in zip(ours(x), theirs(x)):
            _close(a, b)
    ours.reset_states()
    first = to_numpy(ours(x1)[0])
    assert not np.allclose(first, to_numpy(ours(x1)[0]))  # started from the states
    assert all(not s.requires_grad for s in ours.states)
    with pytest.raises(ValueError, match=r"needs the batch size of its states, 2"):
        ours(_x((3, *SEQ[1:])))


@pytest.mark.parametrize(
    "rank,kwargs",
    [
        (2, {"kernel_size": 3, "padding": "same", "strides": 2}),
        (1, {"kernel_size": 2, "data_format": "channels_first"}),
    ],
)
def test_one_cell_step_matches_keras_s_cell(rank, kwargs):
    shape = (2, 5, 6, 2) if rank == 2 else (2, 2, 7)
    ours = ConvLSTMCell(rank, 3, **kwargs)
    theirs = KerasConvLSTMCell(rank, 3, **kwargs)
    x = _x(shape)
    ours.build(tuple(x.shape))
    theirs.build(tuple(x.shape))
    ours.set_weights(theirs.get_weights())
    states = [_x((2, *ours._state_shape)) for _ in range(2)]
    out_ours, (h, c) = ours(x, states)
    out_theirs, (h_k, c_k) = theirs(x, states)
    for a, b in ((out_ours, out_theirs), (h, h_k), (c, c_k)):
        _close(a, b)
    assert ours.compute_output_shape(tuple(x.shape)) == theirs.compute_output_shape(
        tuple(x.shape)
    )


def test_strides_with_dilation_follow_keras_s_own_arithmetic():
    """Keras refuses ``strides > 1`` with ``dilation_rate > 1`` at construction;
    lamina computes it (as its convolutions do). Keras's cell with the
    restriction lifted after construction is the reference."""
    kwargs = {"kernel_size": 2, "dilation_rate": 2}
    with pytest.raises(ValueError, match="strides"):
        keras.layers.ConvLSTM2D(3, strides=2, **kwargs)
    layer = lamina.layers.ConvLSTM2D(3, strides=2, return_sequences=True, **kwargs)
    x = _x((2, 3, 7, 8, 2))
    assert tuple(layer(x).shape) == (2, 3, 3, 3, 3)
    reference = keras.layers.ConvLSTM2D(3, return_sequences=True, **kwargs)
    reference.cell.strides = (2, 2)
    reference(x)
    reference.set_weights(layer.get_weights())
    _close(layer(x), reference(x))


def test_symbolic_shapes_with_unknown_batch_and_time():
    layer = lamina.layers.ConvLSTM3D(
        4, 3, strides=(1, 2, 2), padding="same", return_sequences=True
    )
    out = layer(lamina.Input((None, 4, 6, 5, 1)))
    assert out.shape == (None, None, 4, 3, 3, 4)
    outputs = lamina.layers.ConvLSTM1D(2, 3, return_state=True)(
        lamina.Input((None, 9, 3))
    )
    assert [o.shape for o in outputs] == [(None, 7, 2)] * 3


def test_build_and_call_errors():
    with pytest.raises(
        ValueError,
        match=r"ConvLSTM2D 'conv_lstm2d\w*': expected known channels and spatial "
        r"sizes in \(batch, timesteps, rows, cols, channels\) \(ConvLSTM layers "
        r"need static spatial shapes\), got shape \(None, 3, None, 5, 2\)",
    ):
        lamina.layers.ConvLSTM2D(2, 3)(lamina.Input((3, None, 5, 2)))
    with pytest.raises(ValueError, match="static"):  # Keras refuses it too
        keras.layers.ConvLSTM2D(2, 3)(keras.Input((3, None, 5, 2)))
    layer = lamina.layers.ConvLSTM2D(2, 3)
    with pytest.raises(
        ValueError,
        match=r"`initial_state` must be \[h, c\], two tensors of shape "
        r"\(2, 3, 4, 2\); got shape\(s\) \[\(2, 5, 6, 2\), \(2, 5, 6, 2\)\]",
    ):
        layer(_x(), initial_state=[torch.zeros(2, 5, 6, 2)] * 2)
    with pytest.raises(ValueError, match=r"the mask must have shape"):
        layer(_x(), mask=torch.ones(2, 4, dtype=torch.bool))


def test_the_input_convolution_runs_once_for_all_timesteps(monkeypatch):
    calls = []
    conv = conv_lstm.conv_ops.conv

    def counting(x, kernel, *args):
        calls.append(tuple(x.shape))
        return conv(x, kernel, *args)

    monkeypatch.setattr(conv_lstm.conv_ops, "conv", counting)
    layer = lamina.layers.ConvLSTM2D(3, 3, padding="same", recurrent_dropout=0.5)
    layer(_x())
    assert calls == [(6, 5, 6, 2), (2, 5, 6, 3), (2, 5, 6, 3), (2, 5, 6, 3)]
    calls.clear()
    layer(_x(), training=True)  # 4 masked copies of h: one grouped convolution
    assert calls[1:] == [(2, 5, 6, 12)] * 3


def test_layers_are_thin_torch_modules_reading_through_to_the_cell():
    layer = lamina.layers.ConvLSTM2D(3, (3, 2), data_format="channels_first")
    assert isinstance(layer, torch.nn.Module)
    assert layer.kernel_size == (3, 2) and layer.data_format == "channels_first"
    assert layer.filters == 3 and layer.cell.name == "conv_lstm_cell"
    assert "filters" not in vars(lamina.layers.ConvLSTM2D)  # inherited property
    layer(_x((2, 3, 2, 5, 6)))
    assert [n for n, _ in layer.named_parameters()] == [
        "cell.kernel",
        "cell.recurrent_kernel",
        "cell.bias",
    ]


def _model(k):
    return k.Sequential(
        [
            k.Input((3, 6, 6, 2)),
            k.layers.ConvLSTM2D(4, 3, padding="same", return_sequences=True),
            k.layers.ConvLSTM2D(2, 2, data_format="channels_last"),
            k.layers.GlobalAveragePooling2D(),
            k.layers.Dense(1),
        ]
    )


def test_keras_files_load_both_ways(tmp_path):
    x = RNG.standard_normal((2, 3, 6, 6, 2)).astype("float32")
    theirs = _model(keras)
    theirs.save(tmp_path / "keras.keras")
    ours = lamina.saving.load_model(tmp_path / "keras.keras")
    _close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))
    ours.save(tmp_path / "lamina.keras")
    again = keras.saving.load_model(tmp_path / "lamina.keras")
    _close(again.predict(x, verbose=0), theirs.predict(x, verbose=0))


def test_masking_masks_per_position_as_in_keras():
    def build(k):
        return k.Sequential(
            [
                k.Input((4, 5, 5, 2)),
                k.layers.Masking(),
                k.layers.ConvLSTM2D(3, 3, padding="same", go_backwards=True),
            ]
        )

    x = RNG.standard_normal((3, 4, 5, 5, 2)).astype("float32")
    x[0, 3], x[1, :2], x[2, 1, 2, 2] = 0, 0, 0  # whole steps, and one position
    ours, theirs = build(lamina), build(keras)
    ours.set_weights(theirs.get_weights())
    _close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))


def test_a_model_trains():
    torch.manual_seed(0)
    model = _model(lamina)
    x = RNG.standard_normal((16, 3, 6, 6, 2)).astype("float32")
    y = x.mean(axis=(1, 2, 3, 4))[:, None]
    model.compile(optimizer=lamina.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
