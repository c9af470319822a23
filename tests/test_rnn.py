"""Recurrent layers beyond their oracle cases (tests/cases_rnn.py: every layer,
cell and wrapper against Keras 3, with states, initial_state and masks): a user
cell, stateful calls, masks end to end through models, the fused kernel against
the step loop, dropout in training, saving, and errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina.layers import rnn as lamina_rnn
from lamina.ops import rnn as rnn_ops
from tests.cases_rnn import EMPTY_ROW, LEFT, MIXED, RIGHT
from tests.oracle import Case, check_layer
from tests.oracle_inputs import flatten
from tests.oracle_inputs import to_numpy as _to_numpy

SEQ = (3, 6, 4)
RNG = np.random.default_rng(0)
X = RNG.standard_normal(SEQ).astype("float32")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # Tiny tensors: on a loaded machine extra threads only wait on each other
    # (torch's CPU LSTM runs oneDNN, whose threads synchronize every step).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ------------------------------------------------------ masks through models
def _padded(padding):
    """Integer sequences padded with 0 on the ``padding`` side; one row empty."""
    lengths = [5, 2, 0, 7]
    x = np.zeros((4, 7), "int32")
    for row, n in enumerate(lengths):
        values = RNG.integers(1, 20, n)
        if n:
            x[row, :n] = values if padding == "post" else 0
            if padding == "pre":
                x[row, 7 - n :] = values
    return x


def _compare_models(build, x):
    ours, theirs = build(lamina), build(keras)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-5
    )
    return ours


@pytest.mark.parametrize("padding", ["pre", "post"])
def test_embedding_masks_flow_through_sequential_models(padding):
    def build(k):
        return k.Sequential(
            [
                k.Input((7,), dtype="int32"),
                k.layers.Embedding(20, 6, mask_zero=True),
                k.layers.GRU(5, return_sequences=True),
                k.layers.TimeDistributed(k.layers.Dense(4)),
                k.layers.Dropout(0.5),
                k.layers.Bidirectional(k.layers.LSTM(3)),
                k.layers.Dense(2),
            ]
        )

    ours = _compare_models(build, _padded(padding))
    # An all-padding row: the RNNs keep their zero states, so only biases remain.
    empty = ours.predict(np.zeros((1, 7), "int32"), verbose=0)
    np.testing.assert_allclose(empty, ours.predict(_padded(padding)[2:3], verbose=0))


@pytest.mark.parametrize("padding", ["pre", "post"])
def test_masking_layer_masks_flow_through_functional_models(padding):
    x = RNG.standard_normal((4, 7, 3)).astype("float32")
    x[_padded(padding) == 0] = 0.0

    def build(k):
        inputs = k.Input((7, 3))
        masked = k.layers.Masking()(inputs)
        hidden = k.layers.Dense(4, activation="tanh")(masked)
        sequence = k.layers.SimpleRNN(4, return_sequences=True, go_backwards=True)(
            k.layers.Activation("relu")(hidden)
        )
        last, h, c = k.layers.LSTM(3, return_state=True)(sequence)
        return k.Model(inputs, [last, h, c])

    ours, theirs = build(lamina), build(keras)
    ours.set_weights(theirs.get_weights())
    for a, b in zip(ours.predict(x, verbose=0), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_global_average_pooling_uses_the_mask_after_an_rnn():
    def build(k):
        return k.Sequential(
            [
                k.Input((7,), dtype="int32"),
                k.layers.Embedding(20, 4, mask_zero=True),
                k.layers.LSTM(3, return_sequences=True),
                k.layers.GlobalAveragePooling1D(),
            ]
        )

    x = _padded("post")
    ours = _compare_models(build, x[[0, 1, 3]])
    # A fully masked row averages nothing: zeros, where Keras 3 divides 0 by 0.
    assert np.array_equal(ours.predict(x[2:3], verbose=0), np.zeros((1, 3), "float32"))


def test_a_layer_that_cannot_use_the_mask_refuses_it():
    embedded = lamina.layers.Embedding(10, 3, mask_zero=True)(np.array([[1, 0]]))
    with pytest.raises(ValueError, match=r"Flatten 'flatten\w*' received a mask"):
        lamina.layers.Flatten()(embedded)
    inputs = lamina.Input((4,), dtype="int32")
    with pytest.raises(ValueError, match=r"does not support masking"):
        lamina.layers.Flatten()(lamina.layers.Embedding(10, 3, mask_zero=True)(inputs))


@pytest.mark.parametrize(
    "make",
    [
        lambda: lamina.layers.Dense(3),
        lambda: lamina.layers.Activation("relu"),
        lambda: lamina.layers.Dropout(0.5),
        lambda: lamina.layers.Identity(),
        lambda: lamina.layers.GaussianNoise(0.1),
        lambda: lamina.layers.GaussianDropout(0.1),
        lambda: lamina.layers.SpatialDropout1D(0.1),
        lambda: lamina.layers.ActivityRegularization(0.1),
        lambda: lamina.layers.TimeDistributed(lamina.layers.Dense(2)),
        lambda: lamina.layers.LSTM(2, return_sequences=True),
        lambda: lamina.layers.Bidirectional(
            lamina.layers.GRU(2, return_sequences=True)
        ),
    ],
)
def test_keras_mask_passing_layers_pass_the_mask_on(make):
    embedded = lamina.layers.Embedding(10, 3, mask_zero=True)(np.array([[1, 0, 4]]))
    out = make()(embedded)
    assert out._keras_mask.tolist() == [[True, False, True]]


# -------------------------------------------------------- fused vs step loop
@pytest.mark.parametrize(
    "layer,kwargs",
    [
        ("LSTM", {}),
        ("GRU", {}),
        ("SimpleRNN", {}),
        ("SimpleRNN", {"activation": "relu"}),
        ("LSTM", {"use_bias": False}),
        ("LSTM", {"return_state": False}),  # no final c needed: unpacked kernel
    ],
)
@pytest.mark.parametrize("mask", [None, MIXED, LEFT, RIGHT, EMPTY_ROW])
def test_fused_kernel_and_step_loop_give_the_same_numbers(layer, kwargs, mask):
    x = torch.tensor(X, dtype=torch.float64)
    flags = {
        "return_sequences": True,
        "return_state": True,
        "go_backwards": mask is LEFT,
        "dtype": "float64",
        **kwargs,
    }
    initial = torch.randn(3, 5, dtype=torch.float64)
    results, weights = [], None
    for loop in (False, True):
        # SimpleRNN has no use_cudnn in Keras; unroll selects the loop for all.
        rnn = getattr(lamina.layers, layer)(5, unroll=loop, **flags)
        rnn(x)
        weights = weights or rnn.get_weights()
        rnn.set_weights(weights)
        x_in = x.clone().requires_grad_()
        states = [initial.clone().requires_grad_()] * (2 if layer == "LSTM" else 1)
        outputs = [t for _, t in flatten(rnn(x_in, initial_state=states, mask=mask))]
        sum((o * (i + 1.5)).sum() for i, o in enumerate(outputs)).backward()
        grads = [x_in.grad, states[0].grad, *(w.grad for w in rnn.trainable_weights)]
        results.append(([o.detach() for o in outputs], grads))
    (out_a, grad_a), (out_b, grad_b) = results
    for a, b in zip(out_a + grad_a, out_b + grad_b):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


def test_fused_kernel_runs_exactly_when_the_configuration_allows(monkeypatch):
    calls = []
    original = rnn_ops.fused
    monkeypatch.setattr(
        rnn_ops,
        "fused",
        lambda mode, *a, **k: calls.append(mode) or original(mode, *a, **k),
    )
    x = torch.as_tensor(X)
    for layer, fused in [
        (lamina.layers.LSTM(3), "lstm"),
        (lamina.layers.GRU(3), "gru"),
        (lamina.layers.SimpleRNN(3, activation="relu"), "rnn_relu"),
        (lamina.layers.GRU(3, reset_after=False), None),
        (lamina.layers.LSTM(3, recurrent_activation="hard_sigmoid"), None),
        (lamina.layers.LSTM(3, unroll=True), None),
    ]:
        calls.clear()
        layer(x, mask=MIXED)
        assert calls == ([fused] if fused else [])
    lstm = lamina.layers.LSTM(3, recurrent_dropout=0.5)
    calls.clear()
    lstm(x, training=False)
    lstm(x, training=True)
    assert calls == ["lstm"]  # recurrent dropout in training needs the loop


# ------------------------------------------------------------------ stateful
def test_stateful_carries_states_across_calls_and_resets_like_keras():
    def build(k):
        return k.layers.LSTM(4, stateful=True, return_state=True)

    ours, theirs = build(lamina), build(keras)
    x1, x2 = X, RNG.standard_normal(SEQ).astype("float32")
    ours(torch.as_tensor(x1))
    theirs(torch.as_tensor(x1))
    ours.set_weights(theirs.get_weights())
    ours.reset_states()
    theirs.reset_states()
    for x in (x1, x2, "reset", x1):
        if isinstance(x, str):
            ours.reset_states()
            theirs.reset_states()
            continue
        for a, b in zip(ours(torch.as_tensor(x)), theirs(torch.as_tensor(x))):
            np.testing.assert_allclose(_to_numpy(a), _to_numpy(b), atol=1e-5)
    ours.reset_states()
    first = _to_numpy(ours(torch.as_tensor(x1))[0])
    carried = _to_numpy(ours(torch.as_tensor(x1))[0])
    assert not np.allclose(first, carried)  # the second call starts from the states
    ours.reset_states()
    np.testing.assert_allclose(_to_numpy(ours(torch.as_tensor(x1))[0]), first)
    assert all(not s.requires_grad for s in ours.states)  # batches do not chain graphs


def test_stateful_errors():
    layer = lamina.layers.GRU(2, stateful=True)
    layer(torch.zeros(3, 4, 2))
    with pytest.raises(
        ValueError,
        match=r"stateful RNN needs the batch size of its "
        r"states, 3; got input shape \(5, 4, 2\)",
    ):
        layer(torch.zeros(5, 4, 2))
    with pytest.raises(ValueError, match=r"`stateful=True` needs a fixed batch size"):
        lamina.layers.LSTM(2, stateful=True)(lamina.Input((4, 2)))
    stacked = lamina.layers.Bidirectional(lamina.layers.LSTM(2, stateful=True))
    stacked(torch.ones(3, 4, 2))
    assert len(stacked.states) == 4
    stacked.reset_states()
    assert all(float(s.abs().sum()) == 0 for s in stacked.states)
    with pytest.raises(AttributeError, match=r"not stateful"):
        lamina.layers.Bidirectional(lamina.layers.LSTM(2)).reset_states()


# ------------------------------------------------------------------- dropout
def test_dropout_masks_are_fixed_over_a_sequence_and_seeded():
    layer = lamina.layers.SimpleRNN(
        4,
        activation=None,
        use_bias=False,
        kernel_initializer="identity",
        recurrent_initializer="zeros",
        dropout=0.5,
        seed=3,
        return_sequences=True,
    )
    x = torch.ones(64, 5, 4)
    out = layer(x, training=True)
    kept = out[:, 0]
    assert set(kept.unique().tolist()) == {0.0, 2.0}  # inverted dropout, rate 0.5
    assert torch.equal(out, kept.unsqueeze(1).expand_as(out))  # same mask each step
    assert torch.equal(layer(x, training=False), x)
    again = lamina.layers.SimpleRNN.from_config(layer.get_config())
    again(x)
    again.set_weights(layer.get_weights())
    fresh = lamina.layers.SimpleRNN.from_config(layer.get_config())
    fresh(x)
    fresh.set_weights(layer.get_weights())
    assert torch.equal(again(x, training=True), fresh(x, training=True))


def test_fused_and_loop_draw_the_same_input_dropout_mask():
    outputs = []
    for use_cudnn in ("auto", False):
        layer = lamina.layers.LSTM(3, dropout=0.4, seed=7, use_cudnn=use_cudnn)
        layer(torch.as_tensor(X))
        layer.set_weights([np.full(w.shape, 0.1, "float32") for w in layer.weights])
        outputs.append(layer(torch.as_tensor(X), training=True))
    torch.testing.assert_close(outputs[0], outputs[1])


def test_recurrent_dropout_uses_one_mask_per_gate_in_training():
    layer = lamina.layers.GRU(3, recurrent_dropout=0.5, seed=0, reset_after=False)
    layer(torch.as_tensor(X))
    assert layer.cell.implementation == 1 and layer.cell.dropout_mask_count == 3
    masks = layer.cell._draw_masks(torch.ones(2, 3), 0.5)
    assert len(masks) == 3 and not all(torch.equal(masks[0], m) for m in masks)
    trained = layer(torch.as_tensor(X), training=True)
    assert not torch.allclose(trained, layer(torch.as_tensor(X), training=False))


# ------------------------------------------------------------------- others
def test_simple_rnn_applies_its_activity_regularizer():
    # Keras 3's SimpleRNN accepts activity_regularizer but drops it; lamina
    # applies it like every other layer: l2 of the output over the batch size.
    layer = lamina.layers.SimpleRNN(3, activity_regularizer="l2")
    out = layer(torch.as_tensor(X))
    torch.testing.assert_close(layer.losses[0], 0.01 * (out**2).sum() / 3)
    assert layer.get_config()["activity_regularizer"]["class_name"] == "L2"


def test_functional_model_with_symbolic_initial_state_and_summary():
    sequences = lamina.Input((None, 4))
    h0, c0 = lamina.Input((5,)), lamina.Input((5,))
    outputs, h, c = lamina.layers.LSTM(5, return_sequences=True, return_state=True)(
        sequences, initial_state=[h0, c0]
    )
    assert outputs.shape == (None, None, 5) and h.shape == (None, 5)
    model = lamina.Model([sequences, h0, c0], [outputs, h, c])
    states = [np.zeros((3, 5), "float32")] * 2
    predicted = model.predict([X, *states], verbose=0)
    reference = model.layers[-1](torch.as_tensor(X))
    np.testing.assert_allclose(predicted[0], _to_numpy(reference[0]), atol=1e-6)
    layer = lamina.layers.GRU(2, return_state=True)
    assert layer.compute_output_shape((None, 7, 3)) == ((None, 2), (None, 2))


def test_bad_calls_raise_clear_errors():
    lstm = lamina.layers.LSTM(2)
    x = torch.zeros(3, 4, 2)
    with pytest.raises(
        ValueError,
        match=r"LSTM 'lstm\w*': `initial_state` must be "
        r"2 tensor\(s\) of shape\(s\) \[\(3, 2\), \(3, 2\)\].* got "
        r"shape\(s\) \[\(3, 2\)\]",
    ):
        lstm(x, initial_state=[torch.zeros(3, 2)])
    with pytest.raises(ValueError, match=r"got shape\(s\) \[\(3, 5\), \(3, 2\)\]"):
        lstm(x, initial_state=[torch.zeros(3, 5), torch.zeros(3, 2)])
    with pytest.raises(
        ValueError,
        match=r"the mask must have shape \(batch, "
        r"timesteps\) = \(3, 4\); got mask shape \(3, 5\)",
    ):
        lstm(x, mask=torch.ones(3, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"at least one timestep"):
        lamina.layers.GRU(2)(torch.zeros(3, 0, 2))
    with pytest.raises(
        ValueError,
        match=r"`unroll=True` needs a known number of "
        r"timesteps; got input shape \(None, None, 2\)",
    ):
        lamina.layers.SimpleRNN(2, unroll=True)(lamina.Input((None, 2)))
    with pytest.raises(ValueError, match=r"`cell` must be an RNN cell"):
        lamina.layers.RNN(lamina.layers.Dense(3))
    with pytest.raises(ValueError, match=r"`cells` must be a list of RNN cells"):
        lamina.layers.StackedRNNCells([lamina.layers.LSTMCell(2), "x"])


def test_wrapper_errors():
    with pytest.raises(ValueError, match=r"`merge_mode` must be one of"):
        lamina.layers.Bidirectional(lamina.layers.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match=r"`layer` must be a recurrent layer"):
        lamina.layers.Bidirectional("lstm")
    with pytest.raises(
        ValueError, match=r"different `go_backwards`; got True for both"
    ):
        lamina.layers.Bidirectional(lamina.layers.LSTM(2, go_backwards=True))
    with pytest.raises(
        ValueError,
        match=r"same `return_sequences`; got False "
        r"\(forward\) and True \(backward\)",
    ):
        lamina.layers.Bidirectional(
            lamina.layers.LSTM(2),
            backward_layer=lamina.layers.LSTM(
                2, go_backwards=True, return_sequences=True
            ),
        )
    with pytest.raises(ValueError, match=r"`layer` must be a Layer instance"):
        lamina.layers.TimeDistributed(3)
    with pytest.raises(ValueError, match=r"expected input of rank >= 3"):
        lamina.layers.TimeDistributed(lamina.layers.Dense(2))(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"the mask must start with the input's"):
        lamina.layers.TimeDistributed(lamina.layers.Dense(2))(
            torch.zeros(2, 3, 4), mask=torch.ones(2, 4, dtype=torch.bool)
        )


def test_rnn_layers_are_torch_modules():
    model = lamina.layers.Bidirectional(lamina.layers.LSTM(3))
    model(torch.as_tensor(X))
    names = [name for name, _ in model.named_parameters()]
    assert names == [
        "forward_layer.cell.kernel",
        "forward_layer.cell.recurrent_kernel",
        "forward_layer.cell.bias",
        "backward_layer.cell.kernel",
        "backward_layer.cell.recurrent_kernel",
        "backward_layer.cell.bias",
    ]
    assert isinstance(lamina_rnn.LSTM(2).cell, torch.nn.Module)


def test_models_with_recurrent_layers_save_and_load_both_ways(tmp_path):
    def build(k):
        return k.Sequential(
            [
                k.Input((7,), dtype="int32"),
                k.layers.Embedding(20, 6, mask_zero=True),
                k.layers.LSTM(5, return_sequences=True),
                k.layers.Bidirectional(k.layers.GRU(3, return_sequences=True)),
                k.layers.TimeDistributed(k.layers.Dense(4)),
                k.layers.RNN([k.layers.LSTMCell(3), k.layers.SimpleRNNCell(2)]),
            ]
        )

    x = _padded("post")
    ours = _compare_models(build, x)
    expected = ours.predict(x, verbose=0)
    ours.save(tmp_path / "ours.keras")
    np.testing.assert_allclose(
        keras.models.load_model(tmp_path / "ours.keras").predict(x, verbose=0),
        expected,
        atol=1e-6,
    )
    theirs = build(keras)
    theirs.set_weights(ours.get_weights())
    theirs.save(tmp_path / "theirs.keras")
    np.testing.assert_allclose(
        lamina.models.load_model(tmp_path / "theirs.keras").predict(x, verbose=0),
        expected,
        atol=1e-6,
    )


def test_inference_weights_follow_in_place_updates():
    layer = lamina.layers.GRU(3)
    x = torch.as_tensor(X)
    with torch.no_grad():
        before = layer(x)
        layer.cell.recurrent_kernel.mul_(0.5)  # what an optimizer step does
        after = layer(x)
    assert not torch.equal(before, after)
    torch.testing.assert_close(after, layer(x))  # autograd path: views


@pytest.mark.parametrize("activation", ["tanh", "relu"])  # fused kernel, step loop
def test_mixed_precision_returns_the_compute_dtype(activation):
    layer = lamina.layers.GRU(
        3, activation=activation, return_state=True, dtype="mixed_bfloat16"
    )
    output, state = layer(torch.as_tensor(X), mask=MIXED)
    assert output.dtype == state.dtype == torch.bfloat16
    assert layer.cell.kernel.dtype == torch.float32
    reference = lamina.layers.GRU(3, activation=activation)
    reference(torch.as_tensor(X))
    reference.set_weights(layer.get_weights())
    expected = reference(torch.as_tensor(X), mask=MIXED)
    torch.testing.assert_close(output.float(), expected, atol=3e-2, rtol=3e-2)


def test_hand_written_gru_backward_matches_torch_kernel(monkeypatch):
    torch.manual_seed(0)
    args = [
        torch.randn(3, 6, 4, dtype=torch.float64, requires_grad=True),
        torch.randn(3, 5, dtype=torch.float64, requires_grad=True),
        *(
            torch.randn(shape, dtype=torch.float64, requires_grad=True)
            for shape in ((15, 4), (15, 5), (15,), (15,))
        ),
    ]
    assert torch.autograd.gradcheck(rnn_ops._GRUSequence.apply, args)
    x, h0, *weights = args
    ours = rnn_ops._run("gru", x, [h0], weights)
    theirs = torch._VF.gru(x, h0[None], weights, True, 1, 0.0, True, False, True)
    torch.testing.assert_close(ours[0], theirs[0])
    torch.testing.assert_close(ours[1][0], theirs[1][0])
    used = []
    original = rnn_ops._GRUSequence.apply
    monkeypatch.setattr(
        rnn_ops._GRUSequence, "apply", lambda *a: used.append(1) or original(*a)
    )
    layer = lamina.layers.GRU(3)
    layer(torch.as_tensor(X))  # building
    assert used == [1]  # weights require grad: training path
    with torch.no_grad():
        layer(torch.as_tensor(X))
    assert used == [1]  # inference: torch's kernel


def _minimal_cell(k):
    """Keras's documented custom-cell example, written against ``k`` (lamina or
    keras) and registered there so configs cross-load."""

    @k.saving.register_keras_serializable(package="test_rnn")
    class MinimalRNNCell(k.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(
                shape=(input_shape[-1], self.units), initializer="uniform", name="k"
            )
            self.recurrent_kernel = self.add_weight(
                shape=(self.units, self.units), initializer="uniform", name="r"
            )

        def call(self, inputs, states):
            output = k.ops.matmul(inputs, self.kernel) + k.ops.matmul(
                states[0], self.recurrent_kernel
            )
            return output, [output]

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return MinimalRNNCell(3)


def test_a_user_cell_runs_like_in_keras():
    def build(layers):
        k = lamina if layers is lamina.layers else keras
        cells = [_minimal_cell(k), layers.GRUCell(2)]
        return layers.RNN(cells, return_sequences=True, return_state=True)

    check_layer(Case("RNN", build=build, inputs=SEQ, call_kwargs={"mask": MIXED}))
    symbolic = lamina.layers.RNN(_minimal_cell(lamina))(lamina.Input((None, 4)))
    assert symbolic.shape == (None, 3)


def test_torch_func_transforms_see_torch_kernels():
    layer = lamina.layers.GRU(3)
    x = torch.as_tensor(X)
    layer(x)
    params = {k: v.detach() for k, v in layer.named_parameters()}

    def loss(p, inputs):
        return torch.func.functional_call(layer, p, (inputs,)).sum()

    grads = torch.func.grad(loss)(params, x)
    layer(x).sum().backward()  # the hand-written backward
    for name, weight in layer.named_parameters():
        torch.testing.assert_close(grads[name], weight.grad)


def test_inference_sees_weights_changed_behind_autograd_s_back():
    """Weights updated through ``.data`` (or a fused optimizer kernel) do not bump
    version counters; inference must still use the new values."""
    layer = lamina.layers.LSTM(4)
    x = torch.randn(2, 5, 3)
    with torch.no_grad():
        before = layer(x).clone()
        for w in layer.weights:
            w.data.add_(0.5)
        after = layer(x)
    assert not torch.allclose(before, after)
    fresh = lamina.layers.LSTM(4)
    fresh(x)
    fresh.set_weights(layer.get_weights())
    with torch.no_grad():
        torch.testing.assert_close(after, fresh(x))
