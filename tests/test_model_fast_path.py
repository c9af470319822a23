"""Models call their layers' ``call`` directly once nothing else is left for
``Layer.__call__`` to do (``lamina.layers.layer.call_in_model``). These tests run
each model both ways and compare: the plain path is forced by a torch-wide forward
hook, which makes every call take ``nn.Module.__call__``."""

import contextlib
import copy
import gc
import io
import weakref

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.layers import run_plan
from lamina.layers.layer import Layer


@contextlib.contextmanager
def plain_path():
    handle = torch.nn.modules.module.register_module_forward_hook(lambda *a: None)
    try:
        yield
    finally:
        handle.remove()


def outputs_of(model, x, **kwargs):
    """The model's outputs (NumPy, detached) on the fast path (after two warm-up
    calls: the first fills the caches, the second records the run plan that
    the third follows) and on the plain path."""
    model(x, **kwargs)
    model(x, **kwargs)
    fast = lamina.utils.tree.map_structure(_numpy, model(x, **kwargs))
    with plain_path():
        plain = lamina.utils.tree.map_structure(_numpy, model(x, **kwargs))
    return fast, plain


def _numpy(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t


def assert_same(fast, plain):
    for got, want in zip(
        lamina.utils.tree.flatten(fast), lamina.utils.tree.flatten(plain)
    ):
        np.testing.assert_array_equal(got, want)


def cnn():
    return lamina.Sequential(
        [
            lamina.Input((12, 12, 3)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(2),
            layers.Dropout(0.5),
            layers.Flatten(),
            layers.Dense(5),
        ]
    )


def branches():
    a, b = lamina.Input((6,), name="a"), lamina.Input((6,), name="b")
    shared = layers.Dense(4, activation="tanh")
    ha, hb = shared(a), shared(b)
    inner_in = lamina.Input((4,))
    inner = lamina.Sequential([inner_in, layers.Dense(3), layers.Activation("relu")])
    merged = layers.Concatenate()([layers.Add()([ha, hb]), inner(ha)])
    return lamina.Model([a, b], {"y": layers.Dense(2)(merged), "h": ha * 2.0})


def masked_rnn():
    return lamina.Sequential(
        [
            lamina.Input((5,), dtype="int32"),
            layers.Embedding(10, 4, mask_zero=True),
            layers.LSTM(3, return_sequences=True),
            layers.GRU(2),
            layers.Dense(1),
        ]
    )


def nested():
    inner = cnn()
    x = lamina.Input((12, 12, 3))
    return lamina.Sequential([x, lamina.Model(x, inner(x)), layers.Dense(2)])


def conv_variety():
    """Convolutions and pooling through every runner branch: channels_first,
    explicit ``same`` padding (even kernels), lifted 1D, averages with appended
    cells, dilation, groups, and activations with and without a torch op."""
    x = lamina.Input((12, 12, 3))
    y = layers.Conv2D(4, 2, padding="same", activation="tanh")(x)
    y = layers.AveragePooling2D(2, strides=1, padding="same")(y)
    y = layers.Conv2D(4, 3, dilation_rate=2, groups=2, activation="elu")(y)
    y = layers.Permute((3, 1, 2))(y)
    y = layers.Conv2D(6, 3, data_format="channels_first", activation="relu")(y)
    y = layers.MaxPooling2D(2, padding="same", data_format="channels_first")(y)
    y = layers.Reshape((6, -1))(y)
    y = layers.Conv1D(5, 4, padding="same", strides=2)(y)
    y = layers.MaxPooling1D(2, padding="same")(y)
    return lamina.Model(x, layers.Dense(3, activation="softmax")(layers.Flatten()(y)))


RNG = np.random.default_rng(0)
IMAGES = torch.from_numpy(RNG.random((2, 12, 12, 3), dtype=np.float32))
MODELS = {
    "cnn": (cnn, IMAGES),
    "branches": (branches, [torch.randn(3, 6), torch.randn(3, 6)]),
    "masked_rnn": (masked_rnn, torch.tensor([[1, 2, 0, 0, 0], [3, 4, 5, 6, 0]])),
    "nested": (nested, IMAGES),
    "conv_variety": (conv_variety, IMAGES),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_fast_path_equals_plain_path(name):
    build, x = MODELS[name]
    model = build()
    assert_same(*outputs_of(model, x))
    assert_same(*outputs_of(model, x, training=False))


def test_layers_are_called_directly_after_the_first_call(monkeypatch):
    model = nested()
    model(IMAGES)
    calls = []
    original = Layer._eager_call

    def counting(self, args, kwargs):
        calls.append(self.name)
        return original(self, args, kwargs)

    monkeypatch.setattr(Layer, "_eager_call", counting)
    model(IMAGES)
    assert calls == [model.name]  # the model only: its layers run directly
    calls.clear()
    model(IMAGES[:1])  # a new shape: layers with an input spec check it once
    assert model.name in calls and len(calls) > 1
    calls.clear()
    model(IMAGES[:1])
    assert calls == [model.name]


def test_training_flag_reaches_layers_called_directly():
    model = cnn()
    model(IMAGES)
    bn = model.layers[1]
    before = bn.moving_mean.detach().clone()
    lamina.utils.set_random_seed(1)
    fast = model(IMAGES, training=True).detach()
    assert not torch.equal(bn.moving_mean, before)  # statistics updated
    after_fast = bn.moving_mean.detach().clone()
    bn.moving_mean.data.copy_(before)
    lamina.utils.set_random_seed(1)
    with plain_path():
        plain = model(IMAGES, training=True).detach()
    torch.testing.assert_close(fast, plain, rtol=0, atol=0)
    torch.testing.assert_close(bn.moving_mean, after_fast, rtol=0, atol=0)


def test_errors_are_unchanged_after_the_first_call():
    model = cnn()
    model(IMAGES)
    model(IMAGES)
    with pytest.raises(ValueError, match=r"must have shape \(None, 12, 12, 3\).*"):
        model(IMAGES[:, :10])  # wrong size
    with pytest.raises(ValueError, match=r"got shape \(12, 12, 3\)"):
        model(IMAGES[0])  # wrong rank
    ints = (IMAGES * 10).to(torch.int64)  # promoted by the convolution, as before
    assert_same(*outputs_of(model, ints))
    func = branches()
    func([torch.randn(3, 6), torch.randn(3, 6)])
    with pytest.raises(ValueError, match="expected 2 input"):
        func([torch.randn(3, 6)])
    dense = lamina.Sequential([layers.Dense(3)])
    dense(torch.randn(2, 4))
    dense(torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"shape \(None, 4\)"):
        dense(torch.randn(2, 5))


def test_mutations_after_the_first_call_take_effect():
    model = cnn()
    model(IMAGES)
    dense = model.layers[-1]
    seen = []
    dense.register_forward_hook(lambda *a: seen.append(1))
    model(IMAGES)
    assert seen == [1]  # a layer hook is called
    dense.activity_regularizer = lamina.regularizers.L2(0.1)
    model(IMAGES)
    assert len(model.losses) == 1  # the activity loss is added
    model.layers[0].dtype_policy = "mixed_bfloat16"
    out = model(IMAGES)
    assert out.dtype == torch.float32  # Dense's policy: float32 compute
    assert_same(*outputs_of(model, IMAGES))
    model.layers[1].trainable = False  # frozen BN runs in inference mode
    bn_mean = model.layers[1].moving_mean.detach().clone()
    model(IMAGES, training=True)
    torch.testing.assert_close(model.layers[1].moving_mean, bn_mean)
    model.add(layers.Dense(2))  # new layer, new weights
    assert model(IMAGES).shape == (2, 2)
    model.pop()
    assert model(IMAGES).shape == (2, 5)


def test_masks_given_to_the_model_and_made_inside_it():
    model = masked_rnn()
    x = MODELS["masked_rnn"][1]
    assert_same(*outputs_of(model, x))
    seq = lamina.Sequential([lamina.Input((4, 3)), layers.LSTM(2)])
    values = torch.randn(2, 4, 3)
    mask = torch.tensor([[True, True, False, False], [True, True, True, True]])
    assert_same(*outputs_of(seq, values, mask=mask))
    no_mask = seq(values.clone()).detach()
    assert not torch.equal(seq(values, mask=mask).detach(), no_mask)


def test_predict_with_jit_compile_picks_the_faster_path_with_equal_outputs():
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(3)])
    model.compile("sgd", "mse", jit_compile=True)
    x = RNG.standard_normal((20, 4)).astype("float32")
    eager = model(torch.from_numpy(x)).detach().numpy()
    got = model.predict(x, batch_size=2, verbose=0)  # 10 batches: enough trials
    np.testing.assert_allclose(got, eager, rtol=1e-6, atol=1e-6)
    chooser = model.predict_function.__wrapped__.chooser
    assert chooser.choice in ("compiled", "eager")
    one = model.predict(x[:1], verbose=0)  # one batch: the chosen path, not a bypass
    np.testing.assert_allclose(one, eager[:1], rtol=1e-6, atol=1e-6)


def _plan_of(model, *inputs, training=False):
    return run_plan.find(model, run_plan.signature(inputs, training))


@pytest.mark.parametrize("name", ["cnn", "conv_variety", "nested"])
def test_a_run_plan_is_kept_and_followed_with_steady_state_calls(name):
    build, x = MODELS[name]
    model = build()
    model(x)
    assert _plan_of(model, x) is None  # the first call builds and checks
    model(x)
    assert _plan_of(model, x) is not None
    for training in (False, True):  # BN statistics and Dropout change nothing
        model(x, training=training)
        epoch = run_plan.epoch()
        model(x, training=training)
        assert run_plan.epoch() == epoch
        assert _plan_of(model, x, training=training) is not None


def test_changes_after_the_plan_take_effect():
    model = cnn()
    for _ in range(2):
        model(IMAGES)
    dense = model.layers[-1]
    linear = model(IMAGES).detach()
    dense.activation = lamina.activations.relu  # Keras reads it on every call
    torch.testing.assert_close(model(IMAGES).detach(), linear.clamp_min(0))
    dense.activation = None
    torch.testing.assert_close(model(IMAGES).detach(), linear)
    conv = model.layers[0]
    conv.activation = lamina.activations.linear
    conv_out = lamina.Sequential(model.layers[:1])(IMAGES).detach()
    assert (conv_out < 0).any()
    model.set_weights([w * 0 for w in model.get_weights()])  # in place
    assert not model(IMAGES).detach().any()


def test_a_copied_model_runs_its_own_weights():
    model = cnn()
    for _ in range(3):
        model(IMAGES)
    twin = copy.deepcopy(model)
    twin.set_weights([w + 1.0 for w in twin.get_weights()])
    for _ in range(3):
        assert not torch.equal(model(IMAGES), twin(IMAGES))
    assert_same(*outputs_of(twin, IMAGES))


@pytest.mark.parametrize("name", ["cnn", "branches", "conv_variety", "nested"])
def test_model_outputs_are_freed_at_once(name):
    """No reference cycle holds a call's outputs (as a recursive closure in
    ``tree.pack_sequence_as`` did): they are freed when dropped, not when the
    garbage collector next runs (its collections cost ~20 us per call)."""
    build, x = MODELS[name]
    model = build()
    for _ in range(3):  # the plan is recorded on the second call, followed after
        outputs = lamina.utils.tree.flatten(model(x))
        refs = [weakref.ref(t) for t in outputs]
        del outputs
        assert [ref() for ref in refs] == [None] * len(refs)


@pytest.mark.parametrize("name", ["branches", "nested"])
def test_a_model_with_plans_pickles_and_is_freed(name):
    """Plans live in the model (runners reach back to it: a global table keyed
    weakly by model would keep every model alive) and never travel with it."""
    build, x = MODELS[name]
    model = build()
    for _ in range(3):
        model(x)
    assert model.__dict__.get("_run_plans")
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    assert not loaded.__dict__.get("_run_plans")
    assert_same(_numpy_all(loaded(x)), _numpy_all(model(x)))
    refs = [weakref.ref(m) for m in model.modules() if isinstance(m, lamina.Model)]
    assert len(refs) > 1  # nested models: their plans hold each other's calls
    del model
    gc.collect()
    assert [ref() for ref in refs] == [None] * len(refs)


def _numpy_all(outputs):
    return lamina.utils.tree.map_structure(_numpy, outputs)


def _count_calls(monkeypatch, cls):
    counted = []
    original = cls.call

    def call(self, *args, **kwargs):
        counted.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, "call", call)
    return counted


def _chain_functional():
    x = lamina.Input((12, 12, 3))
    return lamina.Model(x, cnn()(x))


@pytest.mark.parametrize("build", [cnn, _chain_functional])
def test_a_top_level_call_follows_its_plan_at_once(monkeypatch, build):
    """With a current plan, ``model(x)`` runs the plan's runners without
    ``Layer.__call__`` and the model's ``call``; ``training=`` picks that
    flag's plan (BN statistics move, Dropout drops) and the outputs are the
    plain path's."""
    model = build()
    for training in (False, True, False, True):
        model(IMAGES, training=training)
    entered = _count_calls(monkeypatch, Layer)  # Layer.call: never used by models
    counted = _count_calls(monkeypatch, type(model))
    assert_same(*outputs_of(model, IMAGES))
    counted.clear()
    bn = next(m for m in model.modules() if isinstance(m, layers.BatchNormalization))
    mean = bn.moving_mean.detach().clone()
    first = model(IMAGES, training=True)
    assert not torch.equal(bn.moving_mean.detach(), mean)
    assert not torch.equal(first, model(IMAGES, training=True))  # dropout
    torch.testing.assert_close(model(IMAGES), model(IMAGES, training=False))
    assert counted == [] and entered == []


def test_a_top_level_call_keeps_what_layer_call_does():
    """Hooks on the model, a subclass's own ``call``, masks, casting and a
    non-chain graph all take the full path, call after call."""
    model = cnn()
    seen = []
    model.register_forward_hook(lambda module, args, out: seen.append(out))
    for _ in range(4):
        model(IMAGES)
    assert len(seen) == 4

    class Shifted(lamina.Sequential):
        def call(self, inputs, training=None, mask=None):
            return super().call(inputs, training=training, mask=mask) + 1.0

    shifted = Shifted([lamina.Input((3,)), layers.Dense(2)])
    x = torch.randn(2, 3)
    for _ in range(4):
        torch.testing.assert_close(shifted(x), shifted.layers[0](x) + 1.0)

    dense = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    for _ in range(3):
        dense(x)
    x64 = x.double()
    torch.testing.assert_close(dense(x64), dense(x))  # cast, then followed
    assert dense(x64).dtype == torch.float32

    build, inputs = MODELS["branches"]
    graph = build()
    for _ in range(3):
        assert_same(_numpy_all(graph(inputs)), outputs_of(graph, inputs)[1])


def test_predict_of_one_numpy_batch_follows_the_plan(monkeypatch):
    model = cnn()
    images = IMAGES.numpy().astype("float64")
    want = model(IMAGES).detach().numpy()
    for _ in range(2):  # the first predict sets the model's predict state
        model.predict(images, verbose=0)
    counted = _count_calls(monkeypatch, lamina.Sequential)
    for _ in range(2):
        np.testing.assert_array_equal(model.predict(images, verbose=0), want)
    assert counted == []


def test_a_model_called_inside_a_layer_call_takes_the_context_flag():
    inner = lamina.Sequential([lamina.Input((8,)), layers.Dropout(0.5)])

    class Outer(Layer):
        def call(self, inputs, training=None):
            return inner(inputs)

    outer = Outer()
    x = torch.ones(4, 8)
    for _ in range(3):
        inner(x)
        outer(x)
    assert torch.equal(outer(x, training=False), x)
    assert not torch.equal(outer(x, training=True), x)
