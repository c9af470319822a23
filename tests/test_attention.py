"""What tests/cases_attention.py cannot say in one layer call against Keras:
masks from Embedding through models, the path a call takes, the flash switches,
weights files both ways, symbolic shapes where Keras's are wrong, LoRA on
EinsumDense and ReversibleEmbedding's dtypes."""

import os

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina.layers.attention import dot_product
from lamina.saving import weights_h5

RNG = np.random.default_rng(0)


def _floats(*shape):
    return RNG.standard_normal(shape).astype("float32")


def _tokens(*shape):
    tokens = RNG.integers(1, 10, shape).astype("int32")
    tokens[0, -2:] = 0  # padding at the end of the first sequence
    return tokens


def _pair(cls_name, *args, **kwargs):
    ours = getattr(lamina.layers, cls_name)(*args, **kwargs)
    theirs = getattr(keras.layers, cls_name)(*args, **kwargs)
    return ours, theirs


def _masked_model(lib, **mha):
    tokens = lib.Input((5,), dtype="int32")
    x = lib.layers.Embedding(10, 8, mask_zero=True)(tokens)
    x = lib.layers.MultiHeadAttention(2, 4, name="mha", **mha)(x, x)
    return lib.Model(tokens, x)


# ------------------------------------------------------------------- masks
@pytest.mark.parametrize("mha", [{}, {"dropout": 0.2}], ids=["fused", "dropout"])
def test_embedding_masks_reach_attention_in_a_model(mha):
    ours, theirs = _masked_model(lamina, **mha), _masked_model(keras, **mha)
    ours.set_weights(theirs.get_weights())
    tokens = _tokens(3, 5)
    tokens[1] = 0  # a sequence of padding only: every query row fully blocked
    got, want = ours(tokens), theirs(tokens)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=1e-5)
    assert got._keras_mask.tolist() == (tokens != 0).tolist()
    assert ours.output._keras_mask is not None  # the symbolic output's mask


def test_an_explicit_query_mask_counts_like_the_query_s_own_mask():
    # Keras 3's MultiHeadAttention replaces `query_mask` by the query's Keras
    # mask (None here); lamina uses it: the result equals Keras's for a query
    # carrying that mask.
    ours, theirs = _pair("MultiHeadAttention", 2, 4)
    query, value = _floats(2, 4, 8), _floats(2, 6, 8)
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=bool)
    theirs(query, value)
    ours(query, value)
    ours.set_weights(theirs.get_weights())
    masked_query = torch.tensor(query)
    masked_query._keras_mask = torch.tensor(mask)
    want = theirs(masked_query, torch.tensor(value)).detach().numpy()
    got = ours(query, value, query_mask=mask).detach().numpy()
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert not np.allclose(got, ours(query, value).detach().numpy())


def test_the_projections_see_no_mask_and_the_input_keeps_its_own():
    layer = lamina.layers.MultiHeadAttention(2, 4)
    query = torch.tensor(_floats(2, 3, 8))
    query._keras_mask = torch.ones(2, 3, dtype=torch.bool)
    layer(query, query)  # EinsumDense would refuse a mask
    assert query._keras_mask is not None  # Keras deletes it; lamina leaves it


# ------------------------------------------------------------------- paths
@pytest.fixture
def paths(monkeypatch):
    taken = []
    for name in ("fused_attention", "einsum_attention"):
        original = getattr(dot_product, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            taken.append(_name.split("_")[0])
            return _original(*args, **kwargs)

        monkeypatch.setattr(dot_product, name, spy)
    return taken


@pytest.mark.parametrize(
    "kwargs,call,path",
    [
        ({}, {}, "fused"),
        ({}, {"use_causal_mask": True}, "fused"),
        ({"dropout": 0.5}, {"training": False}, "fused"),
        ({}, {"return_attention_scores": True}, "einsum"),
        ({"dropout": 0.5}, {"training": True}, "einsum"),
        ({"attention_axes": (1, 2)}, {}, "einsum"),
    ],
)
def test_each_call_takes_its_path(paths, kwargs, call, path):
    layer = lamina.layers.MultiHeadAttention(2, 4, **kwargs)
    shape = (2, 3, 2, 8) if "attention_axes" in kwargs else (2, 3, 8)
    x = torch.tensor(_floats(*shape))
    layer(x, x, **call)
    assert paths == [path]


def test_both_paths_give_the_same_output_and_gradients():
    layer = lamina.layers.MultiHeadAttention(2, 4)
    query = torch.tensor(_floats(2, 4, 8), requires_grad=True)
    mask = torch.tensor(RNG.random((2, 4, 4)) > 0.3) | torch.eye(4, dtype=torch.bool)
    fused = layer(query, query, attention_mask=mask, use_causal_mask=True)
    (grad_fused,) = torch.autograd.grad(fused.sum(), query)
    einsum, _ = layer(
        query,
        query,
        attention_mask=mask,
        use_causal_mask=True,
        return_attention_scores=True,
    )
    (grad_einsum,) = torch.autograd.grad(einsum.sum(), query)
    torch.testing.assert_close(fused, einsum, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(grad_fused, grad_einsum, atol=1e-5, rtol=1e-5)


# ------------------------------------------------------------------- flash
@pytest.fixture
def sdpa_flags(monkeypatch):
    """Whether torch's flash kernel was allowed in each SDPA call."""
    seen = []
    original = dot_product.F.scaled_dot_product_attention

    def spy(*args, **kwargs):
        seen.append(torch.backends.cuda.flash_sdp_enabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(dot_product.F, "scaled_dot_product_attention", spy)
    return seen


def test_flash_attention_true_runs_torch_s_flash_kernel_with_keras_s_numbers(
    sdpa_flags,
):
    # Keras on torch refuses flash_attention=True off CUDA; torch has a CPU
    # flash kernel, which lamina uses (and which Keras's default path runs too).
    ours = lamina.layers.MultiHeadAttention(2, 4, flash_attention=True)
    theirs = keras.layers.MultiHeadAttention(2, 4)
    x = _floats(2, 5, 8)
    theirs(x, x)
    ours(x, x)
    ours.set_weights(theirs.get_weights())
    got = ours(x, x, use_causal_mask=True).detach().numpy()
    want = theirs(x, x, use_causal_mask=True).detach().numpy()
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert sdpa_flags and all(sdpa_flags)


def test_flash_switches_follow_keras_config_and_false_is_respected(sdpa_flags):
    assert lamina.config.is_flash_attention_enabled() is None
    x = torch.tensor(_floats(2, 3, 8))
    lamina.config.disable_flash_attention()
    try:
        assert lamina.config.is_flash_attention_enabled() is False
        layer = lamina.layers.MultiHeadAttention(2, 4)
        assert layer._flash_attention is False
        layer(x, x)
    finally:
        lamina.config.enable_flash_attention()
    assert lamina.config.is_flash_attention_enabled() is None
    lamina.layers.MultiHeadAttention(2, 4, flash_attention=False)(x, x)
    assert sdpa_flags == [False, False]
    assert torch.backends.cuda.flash_sdp_enabled()  # restored after the call


def test_flash_attention_must_be_a_flag():
    with pytest.raises(ValueError, match=r"`flash_attention` must be None, True or"):
        lamina.layers.MultiHeadAttention(2, 4, flash_attention="yes")


# --------------------------------------------------------- symbolic shapes
@pytest.mark.parametrize(
    "kwargs,query,value,scores",
    [
        ({}, (3, 8), (5, 6), (None, 2, 3, 5)),
        ({"attention_axes": (1, 2)}, (3, 2, 8), (3, 2, 8), (None, 2, 3, 2, 3, 2)),
    ],
)
def test_symbolic_scores_have_the_real_shape(kwargs, query, value, scores):
    # Keras's symbolic scores are (B, heads, T, T) whatever S and the axes.
    layer = lamina.layers.MultiHeadAttention(2, 4, **kwargs)
    q, v = lamina.Input(query), lamina.Input(value)
    _, symbolic = layer(q, v, return_attention_scores=True)
    assert tuple(symbolic.shape) == scores
    _, real = layer(
        _floats(2, *query), _floats(2, *value), return_attention_scores=True
    )
    assert tuple(real.shape) == (2, *scores[1:])


def test_compute_output_spec_builds_from_every_input():
    layer = lamina.layers.MultiHeadAttention(2, 4)
    spec = layer.compute_output_spec(
        query=lamina.Input((3, 8)), value=lamina.Input((5, 6))
    )
    assert tuple(spec.shape) == (None, 3, 8)
    assert tuple(layer.key_dense.kernel.shape) == (6, 2, 4)  # from the value
    assert layer.get_build_config() == {
        "shapes_dict": {"query_shape": (None, 3, 8), "value_shape": (None, 5, 6)}
    }


def test_einsum_dense_output_sizes_left_none_come_from_the_input():
    layer = lamina.layers.EinsumDense("abc,cd->abd", (None, 4), bias_axes="d")
    assert tuple(layer(lamina.Input((3, 5))).shape) == (None, 3, 4)
    assert layer.compute_output_shape((None, 3, 5)) == (None, 3, 4)
    # Keras leaves it unknown in both
    theirs = keras.layers.EinsumDense("abc,cd->abd", (None, 4), bias_axes="d")
    assert tuple(theirs(keras.Input((3, 5))).shape) == (None, None, 4)


# ------------------------------------------------------------------- LoRA
def test_einsum_dense_lora_factors_the_last_kernel_axis():
    layer = lamina.layers.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="de")
    x = torch.tensor(_floats(2, 4, 5))
    before = layer(x).detach()
    layer.enable_lora(2)
    assert [(w.name, tuple(w.shape)) for w in layer.trainable_weights] == [
        ("bias", (2, 3)),
        ("lora_kernel_a", (5, 2, 2)),
        ("lora_kernel_b", (2, 3)),
    ]
    torch.testing.assert_close(layer(x), before)  # b starts at zero
    with torch.no_grad():
        layer.lora_kernel_b.fill_(0.1)
    merged = layer.kernel + layer.lora_kernel_a @ layer.lora_kernel_b
    want = torch.einsum("abc,cde->abde", x, merged) + layer.bias
    torch.testing.assert_close(layer(x), want)


# ------------------------------------------------------ ReversibleEmbedding
def test_reverse_dtype_gives_float32_logits_from_a_bfloat16_layer():
    ours, theirs = _pair(
        "ReversibleEmbedding", 9, 4, dtype="bfloat16", reverse_dtype="float32"
    )
    tokens = _tokens(2, 5)
    theirs(tokens)
    ours(tokens)
    # Keras gives ml_dtypes bfloat16 arrays, which torch cannot read
    ours.set_weights([w.astype("float32") for w in theirs.get_weights()])
    hidden = _floats(2, 5, 4)
    got, want = ours(hidden, reverse=True), theirs(hidden, reverse=True)
    assert got.dtype == want.dtype == torch.float32
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=1e-6)
    assert ours(tokens).dtype == torch.bfloat16


# ------------------------------------------------------------------- files
def _transformer_block(lib):
    tokens = lib.Input((6,), dtype="int32")
    embed = lib.layers.ReversibleEmbedding(10, 8, mask_zero=True, name="embed")
    x = embed(tokens)
    x = lib.layers.MultiHeadAttention(2, 4, use_gate=True, name="mha")(x, x)
    x = lib.layers.Attention(use_scale=True, name="dot")([x, x])
    x = lib.layers.AdditiveAttention(name="additive")([x, x])
    x = lib.layers.GlobalAveragePooling1D(name="mean")(x)
    x = lib.layers.EinsumDense("ab,bc->ac", 8, bias_axes="c", name="einsum")(x)
    return lib.Model(tokens, embed(x, reverse=True))


def test_keras_files_of_an_attention_model_load_both_ways(tmp_path):
    ours, theirs = _transformer_block(lamina), _transformer_block(keras)
    tokens = _tokens(3, 6)
    theirs.save(tmp_path / "k.keras")
    from_keras = lamina.models.load_model(tmp_path / "k.keras")
    want = theirs.predict(tokens, verbose=0)
    np.testing.assert_allclose(from_keras.predict(tokens), want, atol=1e-5)
    ours.save(tmp_path / "l.keras")
    from_lamina = keras.saving.load_model(tmp_path / "l.keras")
    np.testing.assert_allclose(
        from_lamina.predict(tokens, verbose=0), ours.predict(tokens), atol=1e-5
    )
    theirs.save_weights(tmp_path / "k.weights.h5")
    ours.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(ours.predict(tokens), want, atol=1e-5)


def test_multi_head_attention_weights_files_use_keras_s_paths(tmp_path):
    ours, theirs = _pair("MultiHeadAttention", 2, 4, use_gate=True)
    x = _floats(2, 3, 8)
    ours(x, x)
    theirs(x, x)
    paths = [path for path, _ in weights_h5.walk(ours)]
    assert set(paths) >= {
        "query_dense",
        "key_dense",
        "value_dense",
        "output_dense",
        "_gate_dense",
    }
    path = os.fspath(tmp_path / "mha.weights.h5")
    keras.src.saving.saving_lib.save_weights_only(theirs, path)
    weights_h5.load_weights(ours, path)
    for got, want in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_group_query_attention_in_a_model_has_keras_s_weights_path():
    def model(lib):
        x = lib.Input((3, 8))
        return lib.Model(x, lib.layers.GroupQueryAttention(4, 4, 2)(x, x))

    paths = [path for path, _ in weights_h5.walk(model(lamina))]
    assert "layers/grouped_query_attention/_query_dense" in paths
