"""TorchModuleWrapper against Keras 3's (torch backend): the module's parameters
as weights, values and gradients, calls with several arguments, training under
``fit``, and files both ways (``.weights.h5`` by ``state_dict`` key, ``.keras``
with the pickled module, refused in safe mode).

The oracle (tests/oracle.py) cannot take this layer: Keras names the weights
from a global counter (``variable_7``) where lamina uses the parameters' names.
"""

from __future__ import annotations

import base64
import copy

import h5py
import keras
import numpy as np
import pytest
import torch
from torch import nn

import lamina


class TwoInputs(nn.Module):
    """``linear(x) * y + shift``: positional and keyword arguments, a buffer."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 3)
        self.register_buffer("shift", torch.linspace(-1.0, 1.0, 3))

    def forward(self, x, y, scale=1.0):
        return self.linear(x) * y * scale + self.shift


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 2))


def _pair(make=_net, **kwargs):
    module = make()
    ours = lamina.layers.TorchModuleWrapper(module, **kwargs)
    theirs = keras.layers.TorchModuleWrapper(copy.deepcopy(module), **kwargs)
    return ours, theirs


def _data(*shape, seed=0):
    return torch.tensor(
        np.random.default_rng(seed).standard_normal(shape), dtype=torch.float32
    )


def test_parameters_are_the_weights_by_name_trainable_from_requires_grad():
    module = _net()
    module[3].bias.requires_grad_(False)
    layer = lamina.layers.TorchModuleWrapper(module)
    names = [w.name for w in layer.weights]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"]
    assert [w.name for w in layer.non_trainable_weights] == ["3.bias"]
    assert layer.weights[0].path == f"{layer.name}/0.weight"
    # The module computes with the very tensors the layer tracks.
    assert module[0].weight is layer.weights[0]
    assert [id(p) for p in layer.parameters()] == [id(p) for p in module.parameters()]
    assert layer.count_params() == sum(p.numel() for p in module.parameters())
    layer.trainable = False
    assert not any(p.requires_grad for p in module.parameters())


def test_a_shared_parameter_stays_shared():
    shared = nn.Linear(3, 3)
    layer = lamina.layers.TorchModuleWrapper(nn.Sequential(shared, nn.Tanh(), shared))
    assert [w.name for w in layer.weights] == ["0.weight", "0.bias"]
    assert layer.module[0].weight is layer.module[2].weight


@pytest.mark.parametrize("training", [False, True])
def test_values_gradients_and_statistics_match_keras(training):
    ours, theirs = _pair()
    outputs = []
    for layer in (ours, theirs):
        x = _data(5, 4).requires_grad_()
        y = layer(x, training=training)
        y.sum().backward()
        grads = [p.grad.numpy().copy() for p in layer.module.parameters()]
        outputs.append((y.detach().numpy(), x.grad.numpy(), grads))
    (y1, gx1, g1), (y2, gx2, g2) = outputs
    np.testing.assert_allclose(y1, y2, atol=1e-6)
    np.testing.assert_allclose(gx1, gx2, atol=1e-6)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, atol=1e-6)
    for key, value in theirs.module.state_dict().items():
        np.testing.assert_allclose(ours.module.state_dict()[key], value, atol=1e-6)


def test_positional_and_keyword_arguments_reach_the_module():
    ours, theirs = _pair(TwoInputs)
    x, y = _data(2, 4), _data(2, 3, seed=1)
    expected = theirs(x, y, scale=2.0)
    np.testing.assert_allclose(
        ours(x, y, scale=2.0).detach(), expected.detach(), atol=1e-6
    )


def test_integer_inputs_stay_integers():
    layer = lamina.layers.TorchModuleWrapper(nn.Embedding(10, 3))
    assert tuple(layer(torch.tensor([[1, 2], [3, 4]])).shape) == (2, 2, 3)


def test_calls_without_training_are_inference():
    """A deliberate difference: Keras 3 puts the module in training mode when
    called without ``training``; lamina follows every other Keras layer."""
    layer = lamina.layers.TorchModuleWrapper(nn.Dropout(0.5))
    x = torch.ones(4, 16)
    assert torch.equal(layer(x), x) and not layer.module.training
    assert not torch.equal(layer(x, training=True), x) and layer.module.training
    assert torch.equal(layer(x), x) and not layer.module.training


def test_symbolic_calls_infer_the_shape_or_take_output_shape():
    inputs = lamina.Input((4,))
    assert lamina.layers.TorchModuleWrapper(_net())(inputs).shape == (None, 2)
    given = lamina.layers.TorchModuleWrapper(_net(), output_shape=(None, 2))
    assert given(inputs).shape == (None, 2)
    assert given.compute_output_shape((None, 4)) == (None, 2)


def _model(k, module):
    return k.Sequential([k.Input((4,)), k.layers.TorchModuleWrapper(module)])


def test_fit_trains_it_as_keras_does():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4)).astype("float32")
    y = rng.standard_normal((32, 2)).astype("float32")
    module = _net()
    losses, weights = [], []
    for k, m in ((lamina, module), (keras, copy.deepcopy(module))):
        model = _model(k, m)
        model.compile(optimizer=k.optimizers.SGD(0.1), loss="mse")
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        losses.append(history.history["loss"])
        weights.append([w.detach().numpy().copy() for w in m.state_dict().values()])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
    assert losses[0][1] < losses[0][0]
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, atol=1e-5)


def _h5_entries(path) -> dict:
    entries = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            entries[name] = obj[()]

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return entries


def test_weights_files_move_both_ways_in_keras_layout(tmp_path):
    x = _data(3, 4)
    ours, theirs = _model(lamina, _net()), _model(keras, _net())
    for model in (ours, theirs):  # different statistics in the BatchNorm buffers
        model.layers[0].module.train()
        model.layers[0].module(_data(8, 4, seed=3) * 3)
        model.layers[0].module.eval()
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    assert sorted(_h5_entries(tmp_path / "ours.weights.h5")) == sorted(
        _h5_entries(tmp_path / "theirs.weights.h5")
    )
    assert "layers/torch_module_wrapper/vars/1.running_mean" in _h5_entries(
        tmp_path / "ours.weights.h5"
    )
    expected_ours, expected_theirs = ours.predict(x), theirs.predict(x)
    ours.load_weights(tmp_path / "theirs.weights.h5")
    theirs.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_allclose(ours.predict(x), expected_theirs, atol=1e-6)
    np.testing.assert_allclose(theirs.predict(x), expected_ours, atol=1e-6)


def test_a_weights_file_for_another_module_is_refused(tmp_path):
    _model(lamina, nn.Linear(4, 2)).save_weights(tmp_path / "linear.weights.h5")
    with pytest.raises(
        ValueError, match=r"TorchModuleWrapper '\w+': the file's entries"
    ):
        _model(lamina, _net()).load_weights(tmp_path / "linear.weights.h5")


def test_keras_files_move_both_ways_and_need_unsafe_mode(tmp_path):
    x = _data(3, 4)
    ours, theirs = _model(lamina, _net()), _model(keras, _net())
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    with pytest.raises(ValueError, match=r"TorchModuleWrapper '\w+': refusing to load"):
        lamina.saving.load_model(tmp_path / "theirs.keras")
    with pytest.raises(ValueError, match="torch.load"):
        keras.saving.load_model(tmp_path / "ours.keras")
    from_keras = lamina.saving.load_model(tmp_path / "theirs.keras", safe_mode=False)
    from_lamina = keras.saving.load_model(tmp_path / "ours.keras", safe_mode=False)
    np.testing.assert_allclose(from_keras.predict(x), theirs.predict(x), atol=1e-6)
    np.testing.assert_allclose(from_lamina.predict(x), ours.predict(x), atol=1e-6)


def test_the_config_pickles_the_plain_module():
    layer = lamina.layers.TorchModuleWrapper(_net(), output_shape=(None, 2))
    config = layer.get_config()
    assert config["output_shape"] == (None, 2)
    assert b"lamina" not in base64.b64decode(config["module"])
    assert isinstance(layer.weights[0], lamina.Variable)  # restored after pickling
    with pytest.raises(ValueError, match=r"refusing to load its module in safe mode"):
        lamina.layers.TorchModuleWrapper.from_config(config)
    again = lamina.layers.TorchModuleWrapper.from_config(config, safe_mode=False)
    x = _data(2, 4)
    np.testing.assert_allclose(again(x).detach(), layer(x).detach(), atol=1e-6)
    theirs = keras.layers.TorchModuleWrapper.from_config(config, safe_mode=False)
    np.testing.assert_allclose(
        theirs(x, training=False).detach(), layer(x).detach(), atol=1e-6
    )


def test_a_module_of_other_classes_needs_them_in_custom_objects(tmp_path):
    """Keras unpickles anything in unsafe mode; lamina builds only torch.nn classes
    and the classes the caller names (torch's restricted unpickler)."""
    x, y = _data(2, 4), _data(2, 3, seed=1)
    theirs = keras.Sequential([keras.layers.TorchModuleWrapper(TwoInputs())])
    theirs.build((None, 4))
    config = theirs.layers[0].get_config()
    with pytest.raises(
        ValueError, match=r"needs tests.test_torch_module_wrapper.TwoIn"
    ):
        lamina.layers.TorchModuleWrapper.from_config(config, safe_mode=False)
    layer = lamina.layers.TorchModuleWrapper.from_config(
        config, custom_objects={"TwoInputs": TwoInputs}, safe_mode=False
    )
    expected = theirs.layers[0](x, y, training=False).detach()
    np.testing.assert_allclose(layer(x, y).detach(), expected, atol=1e-6)
    junk = {**config, "module": base64.b64encode(b"not a zip").decode()}
    with pytest.raises(ValueError, match=r"not a torch.save archive"):
        lamina.layers.TorchModuleWrapper.from_config(junk, safe_mode=False)


def test_bad_modules_are_refused():
    with pytest.raises(ValueError, match=r"`module` must be a torch.nn.Module"):
        lamina.layers.TorchModuleWrapper(lambda x: x)
    with pytest.raises(ValueError, match=r"`module` must be initialized"):
        lamina.layers.TorchModuleWrapper(nn.LazyLinear(3))
