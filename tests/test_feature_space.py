"""keras.utils.FeatureSpace.

Keras 3 runs FeatureSpace through TensorFlow (its string and integer lookups,
``adapt`` and calls need it), which the oracle environment does not have; so
configs and files of float features are compared with Keras itself, and the
encoded values with the preprocessing layers FeatureSpace is made of (each
checked against Keras in tests/cases_preprocessing.py) and NumPy.
"""

import json

import keras
import numpy as np
import pytest
import torch

import lamina

FS = lamina.utils.FeatureSpace

DATA = {
    "age": np.array([20.0, 40.0, 30.0, 10.0, 25.0], "float32"),
    "city": np.array(["Oslo", "Lima", "Oslo", "Rome", "Oslo"]),
    "kids": np.array([1, 2, 3, 1, 1]),
    "tag": ["a", "b", "c", "d", "a"],
    "score": [0.5, 1.5, -2.0, 0.0, 3.0],
    "level": [0.1, 0.2, 0.3, 0.9, 0.5],
}
TYPES = {
    "age": "float_normalized",
    "city": "string_categorical",
    "kids": "integer_categorical",
    "tag": "string_hashed",
    "score": "float",
    "level": "float_discretized",
}


def _space(**kwargs):
    space = FS(TYPES, crosses=[("city", "kids")], **kwargs)
    space.adapt(DATA)
    return space


def _one_hot(indices, depth):
    return np.eye(depth, dtype="float32")[np.asarray(indices).reshape(-1)]


def _expected_parts(space):
    """Each encoded feature, from its preprocessor (as FeatureSpace must use it)."""
    p = space.preprocessors
    col = {k: np.asarray(v).reshape(-1, 1) for k, v in DATA.items()}
    age = DATA["age"]
    city = p["city"](col["city"]).numpy()
    kids = p["kids"](col["kids"]).numpy()
    cross = space.crossers["city_X_kids"](
        [torch.as_tensor(city), torch.as_tensor(kids)]
    )
    return {
        "age": ((age - age.mean()) / age.std()).reshape(-1, 1),
        "city": _one_hot(city, 4),  # OOV + Oslo, Lima, Rome
        "kids": _one_hot(kids, 4),  # OOV + 1, 2, 3
        "level": _one_hot(p["level"](col["level"]).numpy(), 32),
        "score": col["score"].astype("float32"),
        "tag": _one_hot(p["tag"](col["tag"]).numpy(), 32),
        "city_X_kids": _one_hot(cross.numpy(), 32),
    }


def test_concat_is_the_sorted_features_then_the_crosses():
    space = _space()
    out = space(DATA)
    parts = _expected_parts(space)
    order = ["age", "city", "kids", "level", "score", "tag", "city_X_kids"]
    want = np.concatenate([parts[n] for n in order], axis=1)
    assert out.dtype == torch.float32 and tuple(out.shape) == (
        5,
        1 + 4 + 4 + 32 + 1 + 32 + 32,
    )
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-5, atol=1e-6)


def test_dict_mode_and_int_outputs():
    space = FS(
        {
            "city": FS.string_categorical(output_mode="int"),
            "kids": FS.integer_categorical(max_tokens=3, output_mode="int"),
        },
        crosses=[FS.cross(("city", "kids"), crossing_dim=8, output_mode="int")],
        output_mode="dict",
    )
    space.adapt(DATA)
    out = space(DATA)
    assert sorted(out) == ["city", "city_X_kids", "kids"]
    cities = space.preprocessors["city"].get_vocabulary()
    assert cities[:2] == ["[UNK]", "Oslo"] and len(cities) == 4
    assert out["city"].numpy().ravel().tolist() == [
        cities.index(c) for c in DATA["city"]
    ]
    kids = space.preprocessors["kids"].get_vocabulary()
    assert kids[:2] == [-1, 1] and len(kids) == 3  # max_tokens=3: OOV, 1, one more
    want = [kids.index(k) if k in kids else 0 for k in DATA["kids"]]
    assert out["kids"].numpy().ravel().tolist() == want
    assert out["city_X_kids"].shape == (5, 1) and int(out["city_X_kids"].max()) < 8


def test_scalar_inputs_give_one_unbatched_row():
    space = _space()
    row = {k: np.asarray(v)[1].item() for k, v in DATA.items()}
    one = space(row)
    np.testing.assert_allclose(one.numpy(), space(DATA)[1].numpy(), rtol=1e-6)


def test_adapt_from_batches_equals_adapt_from_a_dict():
    whole = _space()
    batches = [
        ({k: np.asarray(v)[i : i + 2] for k, v in DATA.items()}, np.zeros(2))
        for i in range(0, 5, 2)
    ]
    batched = FS(TYPES, crosses=[("city", "kids")])
    batched.adapt(iter(batches))
    np.testing.assert_allclose(batched(DATA).numpy(), whole(DATA).numpy(), rtol=1e-6)

    class Rows(torch.utils.data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {k: np.asarray(v)[i] for k, v in DATA.items() if k != "city"}

    types = {k: v for k, v in TYPES.items() if k != "city"}
    loader = torch.utils.data.DataLoader(Rows(), batch_size=2)
    from_loader = FS(types)
    from_loader.adapt(loader)
    direct = FS(types)
    direct.adapt({k: v for k, v in DATA.items() if k != "city"})
    np.testing.assert_allclose(
        from_loader(DATA).numpy(), direct(DATA).numpy(), rtol=1e-6
    )


def test_a_model_on_the_encoded_features_trains_and_predicts_like_the_space():
    space = _space()
    inputs = space.get_inputs()
    assert sorted(inputs) == sorted(TYPES) and inputs["city"].dtype == "string"
    encoded = space.get_encoded_features()
    assert tuple(encoded.shape) == (None, space(DATA).shape[1])
    model = lamina.Model(inputs, lamina.layers.Dense(1)(encoded))
    columns = {k: np.asarray(v).reshape(-1, 1) for k, v in DATA.items()}
    dense = model.layers[-1]
    want = space(DATA).numpy() @ dense.kernel.numpy() + dense.bias.numpy()
    np.testing.assert_allclose(model.predict(columns, verbose=0), want, rtol=1e-5)


def test_saved_file_loads_back_with_vocabularies_and_statistics(tmp_path):
    space = _space()
    space.save(tmp_path / "space.keras")
    again = lamina.models.load_model(tmp_path / "space.keras")
    assert isinstance(again, FS)
    np.testing.assert_array_equal(again(DATA).numpy(), space(DATA).numpy())
    assert again.get_config() == space.get_config()


FLOATS = {
    "a": "float",
    "b": "float_normalized",
    "c": "float_discretized",
    "d": "float_rescaled",
}


def test_config_is_keras_s():
    want = keras.saving.serialize_keras_object(keras.utils.FeatureSpace(FLOATS))
    got = lamina.saving.serialize_keras_object(FS(FLOATS))
    for config in (want, got):
        config.pop("build_config", None)
    assert json.loads(json.dumps(got)) == json.loads(json.dumps(want))
    rebuilt = keras.utils.FeatureSpace.from_config(got["config"])
    assert isinstance(rebuilt.features["b"].preprocessor, keras.layers.Normalization)
    ours = FS.from_config(json.loads(json.dumps(want["config"])))
    assert isinstance(ours.preprocessors["c"], lamina.layers.Discretization)


def test_float_rescaled_features():
    space = FS({"x": FS.float_rescaled(scale=0.5, offset=1.0), "y": "float_rescaled"})
    out = space({"x": [2.0, 4.0], "y": [3.0, -1.0]})
    np.testing.assert_allclose(out.numpy(), [[2.0, 3.0], [3.0, -1.0]])


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"features": {}}, "features"),
        ({"features": {"a": "floaty"}}, "floaty"),
        ({"features": {"a": "float"}, "output_mode": "stack"}, "output_mode"),
        ({"features": {"a": "float"}, "crosses": [("a", "b")]}, "crosses"),
    ],
)
def test_bad_arguments_raise_at_construction(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FS(**kwargs)
    with pytest.raises(ValueError):
        keras.utils.FeatureSpace(**kwargs)


def test_bad_use_raises_clear_errors():
    space = FS({"a": "float_normalized"})
    with pytest.raises(ValueError, match=r"adapt\(dataset\).*\['a'\]"):
        space({"a": [1.0]})
    space.adapt({"a": [1.0, 2.0]})
    with pytest.raises(ValueError, match="a dict"):
        space([1.0])
    with pytest.raises(ValueError, match=r"no value for \['a'\]"):
        space({"b": [1.0]})
    with pytest.raises(ValueError, match="no feature 'b'"):
        FS({"b": "float_normalized"}).adapt(iter([{"a": [1.0]}]))
    ints = FS({"k": FS.integer_categorical(output_mode="int")})
    with pytest.raises(ValueError, match="cannot concatenate feature 'k'"):
        ints.adapt({"k": [1, 2]})
    float_one_hot = FS(
        {"f": FS.feature("float32", lamina.layers.Identity(), "one_hot")}
    )
    with pytest.raises(ValueError, match="must return integers"):
        float_one_hot.get_inputs()
