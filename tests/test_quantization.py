"""int8 quantization against Keras 3: quantizers, quantized dtype policies,
Dense/EinsumDense/Embedding quantized from the same weights (int8 values,
scales, outputs, input gradients), .keras files both ways, and the errors."""

from __future__ import annotations

import warnings

import h5py
import keras
import numpy as np
import pytest
import torch

import lamina


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _np(x):
    return keras.ops.convert_to_numpy(x) if not isinstance(x, np.ndarray) else x


def _same_weights(klayer, llayer):
    kw, lw = klayer.weights, llayer.weights
    assert [(w.name, tuple(w.shape)) for w in kw] == [
        (w.name, tuple(w.shape)) for w in lw
    ]
    for a, b in zip(kw, lw):
        assert str(b.dtype).replace("torch.", "") == str(a.dtype)
        np.testing.assert_array_equal(_np(a), b.detach().numpy())


def _paired(kind, *args, build_shape, **kwargs):
    klayer = getattr(keras.layers, kind)(*args, **kwargs)
    llayer = getattr(lamina.layers, kind)(*args, **kwargs)
    klayer.build(build_shape)
    llayer.build(build_shape)
    values = [np.random.randn(*w.shape).astype("float32") for w in llayer.weights]
    llayer.set_weights(values)
    klayer.set_weights(values)
    return klayer, llayer


# ------------------------------------------------------------- quantizers
@pytest.mark.parametrize("axis", [0, -1, (0, 2)])
def test_abs_max_quantize_matches_keras(axis):
    x = np.random.randn(4, 5, 6).astype("float32")
    q, scale = lamina.quantizers.abs_max_quantize(x, axis)
    kq, kscale = keras.quantizers.abs_max_quantize(x, axis, to_numpy=True)
    assert q.dtype == torch.int8
    np.testing.assert_array_equal(q.numpy(), _np(kq))
    np.testing.assert_array_equal(scale.numpy(), _np(kscale))


def test_abs_max_quantizer_config_and_range_check():
    quantizer = lamina.quantizers.AbsMaxQuantizer(axis=-1, value_range=(-8, 7))
    assert (
        quantizer.get_config()
        == keras.quantizers.AbsMaxQuantizer(axis=-1, value_range=(-8, 7)).get_config()
    )
    restored = lamina.quantizers.deserialize(lamina.quantizers.serialize(quantizer))
    assert restored.get_config() == quantizer.get_config()
    with pytest.raises(ValueError, match=r"`value_range` must be within \[-128, 127\]"):
        lamina.quantizers.AbsMaxQuantizer(value_range=(-200, 127))


@pytest.mark.parametrize("axis", [0, 1])
def test_pack_unpack_int4_match_keras(axis):
    values = np.random.randint(-8, 8, size=(5, 3)).astype("int8")
    packed, shape, length = lamina.quantizers.pack_int4(values, axis=axis)
    kpacked, kshape, klength = keras.quantizers.pack_int4(values, axis=axis)
    np.testing.assert_array_equal(packed.numpy(), _np(kpacked))
    assert (shape, length) == (tuple(kshape), klength)
    unpacked = lamina.quantizers.unpack_int4(packed, length, axis=axis)
    np.testing.assert_array_equal(unpacked.numpy(), values)


def test_float8_helpers_match_keras():
    amax = np.array([0.0, 2.0, np.inf, 5.0], "float32")
    scale = np.array([0.5, 0.5, 0.25, 2.0], "float32")
    np.testing.assert_allclose(
        lamina.quantizers.compute_float8_scale(amax, scale, 448.0, margin=1).numpy(),
        _np(keras.quantizers.compute_float8_scale(amax, scale, 448.0, margin=1)),
    )
    history = np.arange(4, dtype="float32")
    x = np.array([-7.0, 3.0], "float32")
    np.testing.assert_array_equal(
        lamina.quantizers.compute_float8_amax_history(x, history).numpy(),
        _np(keras.quantizers.compute_float8_amax_history(x, history)),
    )
    x = np.random.randn(3, 4).astype("float32") * 100
    np.testing.assert_array_equal(
        lamina.quantizers.quantize_and_dequantize(
            x, np.float32(0.5), "float8_e4m3fn", "float32"
        ).numpy(),
        _np(
            keras.quantizers.quantize_and_dequantize(x, 0.5, "float8_e4m3fn", "float32")
        ),
    )


# ----------------------------------------------------------- dtype policies
def test_quantized_policy_names_and_configs_match_keras():
    policy = lamina.dtype_policies.get("int8_from_mixed_bfloat16")
    kpolicy = keras.dtype_policies.get("int8_from_mixed_bfloat16")
    assert type(policy).__name__ == "QuantizedDTypePolicy"
    assert (policy.name, policy.compute_dtype, policy.variable_dtype) == (
        kpolicy.name,
        kpolicy.compute_dtype,
        kpolicy.variable_dtype,
    )
    assert policy.quantization_mode == "int8"
    config = lamina.dtype_policies.serialize(policy)
    assert config == keras.dtype_policies.serialize(kpolicy)
    assert lamina.dtype_policies.get(config) == policy
    float8 = lamina.dtype_policies.get("float8_from_float32")
    assert (
        float8.get_config()
        == keras.dtype_policies.get("float8_from_float32").get_config()
    )


def test_quantized_policy_errors():
    with pytest.raises(ValueError, match="`mode` must be one of"):
        lamina.dtype_policies.QuantizedDTypePolicy("int3", "float32")
    with pytest.raises(ValueError, match="must not compute in float16"):
        lamina.dtype_policies.QuantizedDTypePolicy("int8", "float16")
    with pytest.raises(NotImplementedError, match="'int8' quantization is"):
        lamina.dtype_policies.get("gptq/4/128_from_float32")


def test_dtype_policy_map_lookup_and_config():
    policy_map = lamina.dtype_policies.DTypePolicyMap(default_policy="float32")
    policy_map["encoder/dense"] = "bfloat16"
    policy_map["encoder/.*"] = "int8_from_float32"
    assert policy_map["encoder/dense"].name == "bfloat16"
    assert policy_map["encoder/query"].name == "int8_from_float32"
    assert policy_map["decoder"].name == "float32"
    config = lamina.dtype_policies.serialize(policy_map)
    kmap = keras.dtype_policies.DTypePolicyMap(default_policy="float32")
    kmap["encoder/dense"] = keras.dtype_policies.get("bfloat16")
    kmap["encoder/.*"] = keras.dtype_policies.get("int8_from_float32")
    assert config == keras.dtype_policies.serialize(kmap)
    restored = lamina.dtype_policies.get(config)
    assert restored["encoder/query"].name == "int8_from_float32"
    policy_map["encoder/dense/.*"] = "float16"
    with pytest.raises(ValueError, match="matches more than one key"):
        policy_map["encoder/dense/x"]


# ------------------------------------------------------------------ layers
def _compare_call(klayer, llayer, x):
    xk = torch.tensor(x, requires_grad=True)
    xl = torch.tensor(x, requires_grad=True)
    yk, yl = klayer(xk), llayer(xl)
    np.testing.assert_allclose(yl.detach().numpy(), _np(yk), rtol=1e-6, atol=1e-6)
    yk.sum().backward()
    yl.sum().backward()
    np.testing.assert_allclose(xl.grad.numpy(), xk.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_dense_int8_matches_keras():
    klayer, llayer = _paired("Dense", 6, activation="relu", build_shape=(None, 9))
    klayer.quantize("int8")
    llayer.quantize("int8")
    _same_weights(klayer, llayer)
    assert llayer.dtype_policy.name == "int8_from_float32"
    assert [w.name for w in llayer.trainable_weights] == ["bias"]
    _compare_call(klayer, llayer, np.random.randn(4, 3, 9).astype("float32"))


def test_dense_weight_only_int8_config_matches_keras():
    klayer, llayer = _paired("Dense", 5, build_shape=(None, 7))
    klayer.quantize(
        config=keras.quantizers.Int8QuantizationConfig(activation_quantizer=None)
    )
    llayer.quantize(
        config=lamina.quantizers.Int8QuantizationConfig(activation_quantizer=None)
    )
    _same_weights(klayer, llayer)
    assert llayer.inputs_quantizer is None
    _compare_call(klayer, llayer, np.random.randn(3, 7).astype("float32"))
    assert (
        llayer.get_config()["quantization_config"]
        == klayer.get_config()["quantization_config"]
    )


@pytest.mark.parametrize(
    "equation, output_shape, bias_axes, input_shape",
    [
        ("ab,bc->ac", 3, "c", (4, 5)),
        ("abc,cde->abde", (None, 2, 3), "de", (2, 7, 5)),  # attention projections
        ("abcd,cde->abe", (None, 6), "e", (2, 3, 4, 5)),  # attention output
        ("abc,dc->abd", (None, 4), None, (2, 3, 5)),  # transposed kernel
        ("ab,bcd->acd", (2, 3), "cd", (4, 5)),
    ],
)
def test_einsum_dense_int8_matches_keras(
    equation, output_shape, bias_axes, input_shape
):
    klayer, llayer = _paired(
        "EinsumDense",
        equation,
        output_shape,
        bias_axes=bias_axes,
        build_shape=input_shape,
    )
    klayer.quantize("int8")
    llayer.quantize("int8")
    _same_weights(klayer, llayer)
    _compare_call(klayer, llayer, np.random.randn(*input_shape).astype("float32"))


def test_einsum_dense_with_ellipsis_quantizes_here():
    # Keras 3.15 cannot quantize "..." equations (a TypeError in its axis
    # analysis); lamina can, close to the float layer.
    layer = lamina.layers.EinsumDense("...b,bc->...c", 4)
    x = torch.randn(2, 3, 8)
    expected = layer(x).detach()
    layer.quantize("int8")
    assert tuple(layer.kernel_scale.shape) == (1, 1, 4)  # output-aligned
    torch.testing.assert_close(layer(x).detach(), expected, rtol=0.05, atol=0.05)


def test_setting_a_quantized_policy_quantizes_a_built_layer():
    klayer, llayer = _paired("Dense", 3, build_shape=(None, 4))
    klayer.dtype_policy = "int8_from_float32"
    llayer.dtype_policy = "int8_from_float32"
    _same_weights(klayer, llayer)
    other = lamina.layers.Dense(3)
    other.build((None, 4))
    with pytest.raises(NotImplementedError, match="'int4' is not implemented"):
        other.dtype_policy = "int4_from_float32"
    assert other.dtype_policy.name == "float32"  # left as it was
    assert other.kernel.dtype == torch.float32


def test_embedding_int8_matches_keras():
    klayer, llayer = _paired("Embedding", 12, 5, build_shape=None)
    klayer.quantize("int8")
    llayer.quantize("int8")
    _same_weights(klayer, llayer)
    x = np.random.randint(0, 12, size=(3, 4))
    np.testing.assert_array_equal(llayer(x).detach().numpy(), _np(klayer(x)))


def test_lora_then_int8_matches_keras_and_saves_merged(tmp_path):
    klayer, llayer = _paired("Dense", 4, build_shape=(None, 6))
    for layer in (klayer, llayer):
        layer.enable_lora(2)
        layer.quantize("int8")
    b_value = np.random.randn(2, 4).astype("float32")
    llayer.lora_kernel_b.assign(b_value)
    klayer.lora_kernel_b.assign(b_value)
    llayer.lora_kernel_a.assign(_np(klayer.lora_kernel_a))
    _compare_call(klayer, llayer, np.random.randn(3, 6).astype("float32"))
    kmodel = keras.Sequential([keras.Input((6,)), klayer])
    lmodel = lamina.Sequential([lamina.Input((6,)), llayer])
    kmodel.save_weights(tmp_path / "k.weights.h5")
    lmodel.save_weights(tmp_path / "l.weights.h5")
    with (
        h5py.File(tmp_path / "k.weights.h5") as kf,
        h5py.File(tmp_path / "l.weights.h5") as lf,
    ):
        for key in ("0", "1", "2"):
            path = f"layers/dense/vars/{key}"
            np.testing.assert_array_equal(lf[path][()], kf[path][()])


def test_quantized_dense_trains_its_bias_only():
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(2)])
    model.quantize("int8")
    kernel = model.layers[0].kernel.detach().clone()
    bias = model.layers[0].bias.detach().clone()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(
        np.ones((8, 4), "float32"), np.ones((8, 2), "float32"), epochs=1, verbose=0
    )
    assert torch.equal(model.layers[0].kernel, kernel)
    assert not torch.equal(model.layers[0].bias.detach(), bias)


# ------------------------------------------------------------------- files
def _small_model(k):
    inputs = k.Input((5,), dtype="int32")
    x = k.layers.Embedding(10, 8)(inputs)
    x = k.layers.EinsumDense("abc,cd->abd", (None, 6), bias_axes="d")(x)
    x = k.layers.GlobalAveragePooling1D()(x)
    return k.Model(inputs, k.layers.Dense(3)(x))


@pytest.mark.parametrize("writer", ["keras", "lamina"])
def test_quantized_keras_files_move_both_ways(writer, tmp_path):
    kmodel, lmodel = _small_model(keras), _small_model(lamina)
    lmodel.set_weights(kmodel.get_weights())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns for layers it skips
        kmodel.quantize("int8")
    lmodel.quantize("int8")
    x = np.random.randint(0, 10, size=(4, 5))
    path = str(tmp_path / "model.keras")
    if writer == "keras":
        kmodel.save(path)
        loaded = lamina.saving.load_model(path)
        expected = _np(kmodel(x))
    else:
        lmodel.save(path)
        loaded = keras.saving.load_model(path)
        expected = lmodel(x).detach().numpy()
    assert loaded.layers[1].dtype_policy.name == "int8_from_float32"
    np.testing.assert_array_equal(
        _np(loaded(x)) if writer == "lamina" else loaded(x).detach().numpy(), expected
    )


# ------------------------------------------------------------------ errors
def test_quantize_errors():
    layer = lamina.layers.Dense(3)
    with pytest.raises(ValueError, match="needs the layer built"):
        layer.quantize("int8")
    layer.build((None, 4))
    for mode in ("int4", "float8"):
        with pytest.raises(
            NotImplementedError, match=f"mode '{mode}' is not implemented"
        ):
            layer.quantize(mode)
    with pytest.raises(ValueError, match="`mode` must be one of"):
        layer.quantize("int2")
    layer.quantize("int8")
    with pytest.raises(ValueError, match="already quantized"):
        layer.quantize("int8")
    half = lamina.layers.Dense(3, dtype="float16")
    half.build((None, 4))
    with pytest.raises(ValueError, match="compute_dtype='float16'"):
        half.quantize("int8")

    class MyDense(lamina.layers.Dense):
        pass

    sub = MyDense(2)
    sub.build((None, 3))
    with pytest.raises(NotImplementedError, match="a subclass of Dense"):
        sub.quantize("int8")
    with pytest.raises(ValueError, match="gptq_unpacked_column_size"):
        lamina.layers.EinsumDense("ab,bc->ac", 3, gptq_unpacked_column_size=4)


def test_model_quantize_errors_and_filters():
    model = lamina.Sequential(
        [
            lamina.Input((4,)),
            lamina.layers.Dense(3, name="a"),
            lamina.layers.Dense(2, name="b"),
        ]
    )
    with pytest.raises(NotImplementedError, match="'int8' is"):
        model.quantize("int4")
    with pytest.raises(ValueError, match="unexpected keyword"):
        model.quantize("int8", bogus=1)
    with pytest.raises(ValueError, match="`filters` must be"):
        model.quantize("int8", filters=3)
    model.quantize("int8", filters="^b$")
    assert [layer.dtype_policy.name for layer in model.layers] == [
        "float32",
        "int8_from_float32",
    ]


# Keras names lamina leaves out: the calibration-based modes (GPTQ, AWQ), int4's
# grouped quantizer, and fake quantization (quantization-aware training).
NOT_IMPLEMENTED = {
    "AWQConfig",
    "GPTQConfig",
    "abs_max_quantize_grouped_with_zero_point",
    "fake_quant_with_min_max_vars",
    "AWQDTypePolicy",
    "GPTQDTypePolicy",
    "Int4DTypePolicy",
}


@pytest.mark.parametrize("module", ["quantizers", "dtype_policies"])
def test_keras_public_names_exist(module):
    names = {n for n in dir(getattr(keras, module)) if not n.startswith("_")}
    missing = sorted(
        n for n in names - NOT_IMPLEMENTED if not hasattr(getattr(lamina, module), n)
    )
    assert missing == []
