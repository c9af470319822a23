"""Embedding beyond tests/cases_rnn.py: the documented example, masks, index
checks, the lookup gradient, LoRA on Embedding, Dense and Conv1D/2D/3D, Keras 2
arguments."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lamina
from lamina.layers.core.embedding import lookup


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # Tiny tensors: extra threads only wait on each other on a loaded machine.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_documented_example_shape():
    layer = lamina.layers.Embedding(1000, 64)
    x = torch.randint(0, 1000, (32, 10), dtype=torch.int32)
    assert tuple(layer(x).shape) == (32, 10, 64)
    assert layer.embeddings.shape == (1000, 64)
    assert float(layer.embeddings.abs().max()) <= 0.05  # uniform within +-0.05


def test_mask_zero_masks_but_does_not_zero_the_vectors():
    layer = lamina.layers.Embedding(5, 3, mask_zero=True)
    out = layer(np.array([[0, 2, 0, 4]]))
    assert out._keras_mask.tolist() == [[False, True, False, True]]
    torch.testing.assert_close(out[0, 0], layer.embeddings[0].detach())
    plain = lamina.layers.Embedding(5, 3)(np.array([[0, 2]]))
    assert getattr(plain, "_keras_mask", None) is None


def test_lookup_gradient_equals_torch_embedding_gradient():
    table = torch.randn(50, 8, requires_grad=True)
    indices = torch.randint(0, 50, (16, 30))  # many repeated rows
    weights = torch.randn(16, 30, 8)
    (lookup(table, indices) * weights).sum().backward()
    ours = table.grad.clone()
    table.grad = None
    (F.embedding(indices, table) * weights).sum().backward()
    torch.testing.assert_close(ours, table.grad)
    assert ours.layout == torch.strided  # dense, as optimizers expect


@pytest.mark.parametrize("threads", [1, 2])
def test_lookup_gradient_is_index_add_to_the_bit(threads):
    # The kernel used (torch's embedding backward) against the plain sum of rows
    # (index_add_), with many repeated rows and an expanded (stride-0) incoming
    # gradient as sum() hands.
    torch.set_num_threads(threads)
    indices = torch.randint(0, 40, (64, 50))
    for grad in (torch.randn(64, 50, 16), torch.randn(16).expand(64, 50, 16)):
        table = torch.randn(40, 16, requires_grad=True)
        lookup(table, indices).backward(grad)
        plain = torch.zeros(40, 16).index_add_(
            0, indices.reshape(-1), grad.reshape(-1, 16)
        )
        assert torch.equal(table.grad, plain)
    torch.set_num_threads(1)


def test_float_indices_must_be_whole_numbers():
    layer = lamina.layers.Embedding(10, 2)
    torch.testing.assert_close(
        layer(torch.tensor([[1.0, 3.0]])), layer(torch.tensor([[1, 3]]))
    )
    with pytest.raises(
        ValueError,
        match=r"Embedding 'embedding\w*': expected "
        r"integer indices, got a float32 input holding 0.5, which is "
        r"not a whole number",
    ):
        layer(torch.tensor([[1.0, 0.5]]))
    with pytest.raises(ValueError, match=r"expected integer indices, got a bool"):
        layer(torch.tensor([[True, False]]))


@pytest.mark.parametrize("bad", [10, 12, -1])
def test_out_of_range_indices_name_the_index_and_input_dim(bad):
    layer = lamina.layers.Embedding(10, 2)
    with pytest.raises(
        ValueError,
        match=rf"index {bad} is out of range for "
        r"input_dim=10 \(valid indices are 0 to 9\); got input shape "
        r"\(2, 2\)",
    ):
        layer(torch.tensor([[1, 2], [bad, 3]]))


def test_float_input_from_a_default_functional_input_works():
    inputs = lamina.Input((4,))  # float32, as Keras users often write it
    model = lamina.Model(inputs, lamina.layers.Embedding(10, 3)(inputs))
    x = np.array([[1, 2, 3, 9]], "float32")
    assert model.predict(x, verbose=0).shape == (1, 4, 3)


def test_weights_argument_and_keras2_input_length():
    table = np.arange(12, dtype="float32").reshape(4, 3)
    layer = lamina.layers.Embedding(4, 3, weights=[table])
    np.testing.assert_array_equal(
        layer(np.array([[2]])).detach().numpy()[0, 0], table[2]
    )
    np.testing.assert_array_equal(
        lamina.layers.Embedding(4, 3, weights=table).get_weights()[0], table
    )
    with pytest.warns(DeprecationWarning, match=r"input_length=7\) is Keras 1/2 code"):
        layer = lamina.layers.Embedding(4, 3, input_length=7)
    assert "input_length" not in layer.get_config()
    assert layer(np.ones((2, 7), "int32")).shape == (2, 7, 3)


# ----------------------------------------------------------------------- LoRA
LORA_LAYERS = {
    "Embedding": (
        lambda k, **kw: k.layers.Embedding(20, 6, **kw),
        lambda: torch.randint(0, 20, (4, 5)),
        ["lora_embeddings_a", "lora_embeddings_b"],
    ),
    "Dense": (
        lambda k, **kw: k.layers.Dense(6, **kw),
        lambda: torch.randn(4, 5),
        ["lora_kernel_a", "lora_kernel_b"],
    ),
    # Convolutions: a (*kernel_size, in // groups, rank) @ b (rank, filters).
    "Conv2D": (
        lambda k, **kw: k.layers.Conv2D(6, (3, 2), groups=2, **kw),
        lambda: torch.randn(2, 5, 6, 4),
        ["lora_kernel_a", "lora_kernel_b"],
    ),
    "Conv1D": (
        lambda k, **kw: k.layers.Conv1D(
            4, 3, padding="causal", data_format="channels_first", **kw
        ),
        lambda: torch.randn(2, 3, 7),
        ["lora_kernel_a", "lora_kernel_b"],
    ),
}


@pytest.mark.parametrize("name", sorted(LORA_LAYERS))
def test_enable_lora_freezes_the_base_and_starts_at_the_base_output(name):
    build, data, lora_names = LORA_LAYERS[name]
    layer = build(lamina)
    x = data()
    base = layer(x).detach()
    base_weights = [w.name for w in layer.weights]
    layer.enable_lora(4)
    assert [w.name for w in layer.weights] == base_weights + lora_names
    assert [w.name for w in layer.trainable_weights] == [
        n for n in base_weights if n not in ("kernel", "embeddings")
    ] + lora_names
    assert not layer.weights[0].requires_grad
    torch.testing.assert_close(layer(x), base)  # b starts at zero
    assert (
        layer.get_config()["lora_rank"] == 4 and layer.get_config()["lora_alpha"] == 4
    )
    # Training moves only the LoRA matrices, and the output with them.
    optimizer = torch.optim.SGD(layer.trainable_weights, lr=0.5)
    before = [w.detach().clone() for w in layer.weights]
    (layer(x) ** 2).sum().backward()
    optimizer.step()
    assert torch.equal(layer.weights[0], before[0])
    assert not torch.equal(layer.weights[-1], before[-1])
    assert not torch.allclose(layer(x), base)
    with pytest.raises(
        ValueError,
        match=r"LoRA is already enabled \(rank 4\); "
        r"enable_lora\(\) can be called once per layer",
    ):
        layer.enable_lora(2)


@pytest.mark.parametrize("name", sorted(LORA_LAYERS))
def test_lora_output_matches_keras_after_training_steps(name):
    build, data, _ = LORA_LAYERS[name]
    ours, theirs = build(lamina, lora_rank=3), build(keras, lora_rank=3)
    x = data()
    ours(x)
    theirs(x)
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(w.shape).astype("float32") for w in theirs.weights]
    theirs.set_weights(values)
    ours.set_weights(values)
    np.testing.assert_allclose(
        ours(x).detach().numpy(), keras.ops.convert_to_numpy(theirs(x)), atol=1e-5
    )


@pytest.mark.parametrize("name", sorted(LORA_LAYERS))
def test_lora_errors(name):
    build, data, _ = LORA_LAYERS[name]
    with pytest.raises(ValueError, match=r"enable_lora\(\) needs the layer built"):
        build(lamina).enable_lora(2)
    constraint = "embeddings_constraint" if name == "Embedding" else "kernel_constraint"
    layer = build(lamina, **{constraint: "non_neg"})
    layer(data())
    with pytest.raises(
        ValueError,
        match=rf"LoRA cannot be used with an? `{constraint}`",
    ):
        layer.enable_lora(2)
    with pytest.raises(ValueError, match=r"`rank` must be an integer >= 1"):
        built = build(lamina)
        built(data())
        built.enable_lora(0)


def test_lora_alpha_from_the_constructor_is_kept():
    # Keras 3's build() calls enable_lora(lora_rank) without lora_alpha, so the
    # alpha given to the constructor is replaced by the rank; lamina keeps it.
    layer = lamina.layers.Dense(3, lora_rank=2, lora_alpha=8)
    x = torch.randn(4, 5)
    layer(x)
    assert layer.lora_alpha == 8 and layer.get_config()["lora_alpha"] == 8
    with torch.no_grad():
        layer.lora_kernel_b.fill_(1.0)
    expected = (
        x @ layer.kernel
        + layer.bias
        + 4.0 * (x @ layer.lora_kernel_a).sum(dim=1, keepdim=True)
    )
    torch.testing.assert_close(layer(x), expected)
    again = lamina.layers.Dense.from_config(layer.get_config())
    again(x)
    assert again.lora_enabled and again.lora_alpha == 8


def test_conv_lora_alpha_scales_the_update_as_in_keras():
    # Unlike Dense's, Keras 3's BaseConv.build passes lora_alpha on.
    def build(k):
        return k.layers.Conv3D(3, 2, strides=(1, 2, 1), lora_rank=2, lora_alpha=5)

    ours, theirs = build(lamina), build(keras)
    x = torch.randn(2, 4, 5, 3, 2)
    ours(x)
    theirs(x)
    rng = np.random.default_rng(1)
    values = [rng.standard_normal(w.shape).astype("float32") for w in theirs.weights]
    theirs.set_weights(values)
    ours.set_weights(values)
    assert ours.lora_alpha == theirs.lora_alpha == 5
    np.testing.assert_allclose(
        ours(x).detach().numpy(), keras.ops.convert_to_numpy(theirs(x)), atol=1e-4
    )


@pytest.mark.parametrize("name", sorted(LORA_LAYERS))
def test_lora_weights_files_hold_the_merged_matrix_both_ways(name, tmp_path):
    build, data, _ = LORA_LAYERS[name]

    def model(k):
        return k.Sequential([build(k, lora_rank=2, name="adapted")])

    x = data()
    ours, theirs = model(lamina), model(keras)
    ours(x)
    theirs(x)
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(w.shape).astype("float32") for w in theirs.weights]
    ours.set_weights(values)
    theirs.set_weights(values)
    expected = keras.ops.convert_to_numpy(theirs(x))
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    for source in ("ours", "theirs"):
        for k in (lamina, keras):
            again = model(k)
            again(x)
            again.load_weights(tmp_path / f"{source}.weights.h5")
            got = again(x)
            got = (
                got.detach().numpy() if k is lamina else keras.ops.convert_to_numpy(got)
            )
            np.testing.assert_allclose(got, expected, atol=1e-4)
    # The merged base is loaded and b is zeroed; a keeps values, so LoRA can train.
    a, b = ours.layers[0]._lora_factors()
    ours.load_weights(tmp_path / "theirs.weights.h5")
    assert float(b.abs().sum()) == 0 and float(a.abs().sum()) > 0


def test_per_sample_gradients_with_torch_func():
    layer = lamina.layers.Embedding(10, 3)
    layer(torch.tensor([[1]]))
    params = {k: v.detach() for k, v in layer.named_parameters()}

    def loss(p, indices):
        return torch.func.functional_call(layer, p, (indices,)).sum()

    indices = torch.tensor([[1, 2], [3, 3]])
    grads = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0))(params, indices)
    expected = torch.zeros(2, 10, 3)
    expected[0, [1, 2]] = 1.0
    expected[1, 3] = 2.0
    torch.testing.assert_close(grads["embeddings"], expected)


def test_layers_without_lora_can_be_traced_by_torch_jit():
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
    x = torch.ones(1, 3)
    traced = torch.jit.trace(model, x)
    torch.testing.assert_close(traced(x), model(x))
