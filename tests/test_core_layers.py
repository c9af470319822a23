"""Core-layer behaviour the Keras oracle cannot judge: randomness in training, Lambda
safety and in-place protection, and the Keras 2 docs examples."""

import numpy as np
import pytest
import torch

import lamina
from lamina import layers


def test_dropout_training_statistics_and_scaling():
    x = torch.ones(200, 500)
    out = layers.Dropout(0.3)(x, training=True)
    kept = out != 0
    assert abs(kept.float().mean().item() - 0.7) < 0.01
    torch.testing.assert_close(out[kept], torch.full_like(out[kept], 1 / 0.7))
    assert torch.equal(layers.Dropout(0.3)(x), x)  # inference by default


def test_dropout_seed_is_reproducible_and_noise_shape_broadcasts():
    x = torch.ones(4, 50, 8)
    first = layers.Dropout(0.5, seed=7)(x, training=True)
    second = layers.Dropout(0.5, seed=7)(x, training=True)
    assert torch.equal(first, second)
    shared = layers.Dropout(0.5, noise_shape=(None, 1, 8))(x, training=True)
    assert torch.equal(shared, shared[:, :1].expand_as(shared))  # same at every step


def test_dropout_rate_one_drops_everything():
    out = layers.Dropout(1.0, seed=1)(torch.ones(3, 3), training=True)
    assert torch.equal(out, torch.zeros(3, 3))


@pytest.mark.parametrize(
    "layer, shape, channel_axis",
    [
        (layers.SpatialDropout1D(0.5), (8, 20, 6), 2),
        (layers.SpatialDropout2D(0.5), (8, 5, 5, 6), 3),
        (layers.SpatialDropout2D(0.5, data_format="channels_first"), (8, 6, 5, 5), 1),
        (layers.SpatialDropout3D(0.5), (4, 3, 3, 3, 6), 4),
    ],
)
def test_spatial_dropout_drops_whole_channels(layer, shape, channel_axis):
    out = layer(torch.ones(shape), training=True)
    reduce_axes = [a for a in range(1, len(shape)) if a != channel_axis]
    per_channel = out.amax(dim=reduce_axes) == out.amin(dim=reduce_axes)
    assert per_channel.all() and (out == 0).any()


def test_gaussian_noise_and_dropout_statistics():
    x = torch.ones(400, 400)
    noisy = layers.GaussianNoise(0.5)(x, training=True)
    assert abs((noisy - 1).std().item() - 0.5) < 0.01
    dropped = layers.GaussianDropout(0.2)(x, training=True)
    assert abs(dropped.mean().item() - 1) < 0.01
    assert abs(dropped.std().item() - (0.2 / 0.8) ** 0.5) < 0.01
    assert torch.equal(layers.GaussianNoise(0.5)(x), x)


def test_lambda_never_modifies_its_input():
    def antirectifier(x):  # Keras 2 docs style: in-place `-=` on the input
        x -= x.mean(dim=1, keepdim=True)
        return torch.cat([torch.relu(x), torch.relu(-x)], dim=1)

    data = np.arange(12, dtype="float32").reshape(3, 4)
    before = data.copy()
    out = layers.Lambda(antirectifier)(data)
    np.testing.assert_array_equal(data, before)
    assert tuple(out.shape) == (3, 8)


def test_lambda_output_shape_mask_and_passthrough_arguments():
    layer = layers.Lambda(lambda x: x[:, :2], output_shape=(2,))
    assert layer(lamina.Input((5,))).shape == (None, 2)
    layer = layers.Lambda(lambda x: x * 2, output_shape=lambda s: (s[0], s[1]))
    assert layer.compute_output_shape((None, 4)) == (None, 4)
    seen = {}

    def fn(x, mask=None, training=None):
        seen.update(mask=mask, training=training)
        return x

    masked = layers.Masking()(torch.tensor([[[1.0], [0.0]]]))
    layers.Lambda(fn, mask=lambda inputs, mask: mask)(masked, training=True)
    assert seen["training"] is True and seen["mask"].tolist() == [[True, False]]


def test_lambda_bytecode_is_refused_in_safe_mode():
    config = layers.Lambda(lambda x: x + 1).get_config()
    assert config["function"]["class_name"] == "__lambda__"
    with pytest.raises(
        ValueError,
        match=r"Refusing to load a Lambda layer's Python "
        r"bytecode",
    ):
        layers.Lambda.from_config(config)
    restored = layers.Lambda.from_config(config, safe_mode=False)
    assert restored(torch.ones(1)).item() == 2.0


def test_lambda_named_function_round_trips_through_custom_objects():
    def double(x):
        return x * 2

    config = layers.Lambda(double).get_config()
    assert config["function"]["config"] == "double"
    with pytest.raises(ValueError, match=r"unknown function 'double'"):
        layers.Lambda.from_config(config)
    restored = layers.Lambda.from_config(config, custom_objects={"double": double})
    assert restored(torch.ones(1)).item() == 2.0


def test_masking_zeroes_masked_steps():
    x = torch.tensor([[[1.0, 2.0], [0.0, 0.0], [0.0, 3.0]]])
    out = layers.Masking()(x)
    assert out._keras_mask.tolist() == [[True, False, True]]
    assert out[0, 1].tolist() == [0.0, 0.0]


def test_activity_regularization_adds_batch_normalised_penalty():
    layer = layers.ActivityRegularization(l1=0.1, l2=0.2)
    x = torch.tensor([[1.0, -2.0], [3.0, 0.0]])
    layer(x)
    expected = (0.1 * x.abs().sum() + 0.2 * (x**2).sum()) / 2
    torch.testing.assert_close(sum(layer.losses), expected)


def test_flatten_channels_first_orders_like_channels_last():
    x = torch.arange(24.0).reshape(1, 2, 3, 4)  # (batch, channels, h, w)
    flat_cf = layers.Flatten(data_format="channels_first")(x)
    flat_cl = layers.Flatten()(x.permute(0, 2, 3, 1))
    assert torch.equal(flat_cf, flat_cl)


def test_keras2_docs_antirectifier_lambda_runs_as_written():
    """The Lambda example of the Keras 2 docs, with `K`, unchanged."""
    from lamina import backend as K

    def antirectifier(x):
        x -= K.mean(x, axis=1, keepdims=True)
        x = K.l2_normalize(x, axis=1)
        pos = K.relu(x)
        neg = K.relu(-x)
        return K.concatenate([pos, neg], axis=1)

    def antirectifier_output_shape(input_shape):
        shape = list(input_shape)
        assert len(shape) == 2  # only valid for 2D tensors
        shape[-1] *= 2
        return tuple(shape)

    model = lamina.Sequential()
    model.add(layers.Dense(4, input_shape=(3,), use_bias=False))
    model.add(layers.Lambda(antirectifier, output_shape=antirectifier_output_shape))
    assert model.output_shape == (None, 8)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    h = x @ model.layers[0].get_weights()[0]
    h = h - h.mean(axis=1, keepdims=True)
    h = h / np.sqrt(np.maximum((h**2).sum(axis=1, keepdims=True), 1e-12))
    expected = np.concatenate([np.maximum(h, 0), np.maximum(-h, 0)], axis=1)
    np.testing.assert_allclose(model.predict(x), expected, atol=1e-6)
