"""Safe loading: the known attacks on Keras model files are refused in every format,
with a clear error, and nothing a file says can switch safe mode off."""

import ast
import json
import marshal
import pathlib
import zipfile

import h5py
import keras
import numpy as np
import pytest

import lamina
from lamina import config as lamina_config

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
X = np.random.default_rng(0).standard_normal((2, 4)).astype("float32")


@pytest.fixture(autouse=True)
def _restore_global_safe_mode(monkeypatch):
    monkeypatch.setattr(lamina_config, "_unsafe_deserialization", False)
    yield
    assert lamina_config.in_safe_mode()  # nothing leaked out of a load


def _keras_lambda_file(tmp_path):
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Lambda(lambda t: t * 2.0 + 1.0, name="evil")]
    )
    path = tmp_path / "lambda.keras"
    model.save(path)
    return path


def _with_config(tmp_path, name, edit):
    """A valid lamina .keras archive whose config.json is rewritten by ``edit``."""
    base = tmp_path / "base.keras"
    if not base.exists():
        lamina.Sequential(
            [lamina.Input((4,)), lamina.layers.Dense(3, name="d")], name="seq"
        ).save(base)
    out = tmp_path / name
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(out, "w") as dst:
        for member in src.namelist():
            data = src.read(member)
            if member == "config.json":
                data = json.dumps(edit(json.loads(data)))
            dst.writestr(member, data)
    return out


def _lambda_entry(name, function):
    return {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {"name": name, "function": function, "arguments": {}},
        "registered_name": None,
    }


BYTECODE = {
    "class_name": "__lambda__",
    "config": {
        "code": __import__("base64")
        .b64encode(marshal.dumps((lambda t: t).__code__))
        .decode(),
        "defaults": None,
        "closure": None,
    },
}


# ------------------------------------------------------------- Lambda bytecode
def test_keras3_lambda_bytecode_refused_then_opt_in(tmp_path, monkeypatch):
    path = _keras_lambda_file(tmp_path)

    from lamina.layers.core import lambda_layer

    class NoUnmarshal:
        def loads(*args):
            raise AssertionError("marshal.loads ran in safe mode")

    monkeypatch.setattr(lambda_layer, "marshal", NoUnmarshal)
    with pytest.raises(
        ValueError,
        match=r"lambda.keras'.*layer 'evil' \(Lambda\).*bytecode.*safe_mode=False",
    ):
        lamina.models.load_model(path)
    monkeypatch.undo()
    monkeypatch.setattr(lamina_config, "_unsafe_deserialization", False)
    model = lamina.models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(model.predict(X), X * 2 + 1, atol=1e-6)
    lamina.config.enable_unsafe_deserialization()
    assert not lamina_config.in_safe_mode()
    lamina.models.load_model(path)
    monkeypatch.setattr(lamina_config, "_unsafe_deserialization", False)


def test_lambda_bytecode_refused_in_json_and_legacy_h5():
    model = lamina.Sequential(
        [lamina.Input((4,)), lamina.layers.Lambda(lambda t: t - 1.0, name="shift")]
    )
    text = model.to_json()
    with pytest.raises(ValueError, match="layer 'shift' .*bytecode"):
        lamina.models.model_from_json(text)
    again = lamina.models.model_from_json(text, safe_mode=False)
    np.testing.assert_allclose(again.predict(X), X - 1, atol=1e-6)
    legacy = FIXTURES / "keras2_lambda.h5"
    with pytest.raises(ValueError, match="keras2_lambda.h5'.*bytecode"):
        lamina.models.load_model(legacy)
    loaded = lamina.models.load_model(legacy, safe_mode=False, compile=False)
    expected = np.load(FIXTURES / "expected.npz")
    np.testing.assert_allclose(
        loaded.predict(expected["lambda_x0"]), expected["lambda_y0"], atol=1e-5
    )


def test_bytecode_in_any_nested_place_is_found(tmp_path):
    def nest(config):
        inner = config["config"]
        inner["layers"].append(
            {
                "module": "keras.layers",
                "class_name": "TimeDistributed",
                "config": {"name": "td", "layer": _lambda_entry("inner", BYTECODE)},
                "registered_name": None,
            }
        )
        return config

    with pytest.raises(ValueError, match="layer 'inner' .*bytecode"):
        lamina.models.load_model(_with_config(tmp_path, "nested.keras", nest))


# -------------------------------------------------- names of arbitrary code
@pytest.mark.parametrize(
    "entry, match",
    [
        (
            _lambda_entry(
                "cmd",
                {
                    "module": "os",
                    "class_name": "function",
                    "config": "system",
                    "registered_name": "function",
                },
            ),
            "unknown function 'system'",
        ),
        (
            {
                "module": "os",
                "class_name": "system",
                "config": {"command": "touch pwned"},
                "registered_name": "os>system",
            },
            "Unknown layer: 'system'",
        ),
        (
            {
                "module": "keras.src.utils.torch_utils",
                "class_name": "TorchModuleWrapper",
                "config": {"module": "gASVAAAAAAAAAAA="},  # pickle, via torch.load
                "registered_name": None,
            },
            r"TorchModuleWrapper: refusing to load its module",
        ),
        (
            {
                "module": "keras.layers",
                "class_name": "Dense",
                "config": {
                    "units": 2,
                    "activation": {
                        "module": "subprocess",
                        "class_name": "function",
                        "config": "getoutput",
                        "registered_name": "function",
                    },
                },
                "registered_name": None,
            },
            "Unknown activation function: 'getoutput'",
        ),
    ],
    ids=["lambda-os.system", "layer-os.system", "torch-pickle", "activation"],
)
def test_configs_naming_arbitrary_code_are_refused(tmp_path, entry, match):
    def inject(config):
        config["config"]["layers"].append(entry)
        return config

    path = _with_config(tmp_path, "attack.keras", inject)
    with pytest.raises(ValueError, match=match):
        lamina.models.load_model(path)
    with pytest.raises(ValueError, match=match):
        lamina.models.load_model(path, safe_mode=False)  # never imports, even so
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    "module", ["keras.config", "lamina.config", "keras.src.saving.serialization_lib"]
)
def test_a_config_cannot_switch_safe_mode_off(tmp_path, module):
    def attack(config):
        config["safe_mode"] = False
        config["config"]["safe_mode"] = False
        switch_off = {
            "module": module,
            "class_name": "function",
            "config": "enable_unsafe_deserialization",
            "registered_name": "function",
        }
        config["config"]["layers"] += [
            _lambda_entry("switch", switch_off),
            _lambda_entry("payload", BYTECODE),
        ]
        return config

    with pytest.raises(ValueError, match="layer 'payload' .*bytecode"):
        lamina.models.load_model(_with_config(tmp_path, "switch.keras", attack))
    assert lamina_config.in_safe_mode()

    def attack_without_bytecode(config):
        config = attack(config)
        config["config"]["layers"].pop()
        return config

    with pytest.raises(
        ValueError, match="unknown function 'enable_unsafe_deserialization'"
    ):
        lamina.models.load_model(
            _with_config(tmp_path, "switch2.keras", attack_without_bytecode)
        )
    assert lamina_config.in_safe_mode()


# ------------------------------------------------------------ HDF5 attacks
def _weights_file(tmp_path):
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(3)])
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    return model, path


def test_hdf5_links_and_external_storage_are_refused(tmp_path):
    secret = tmp_path / "secret.h5"
    with h5py.File(secret, "w") as f:
        f["data"] = np.ones((4, 3), "float32")
    model, path = _weights_file(tmp_path)
    with h5py.File(path, "r+") as f:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.ExternalLink(str(secret), "/data")
    with pytest.raises(ValueError, match="w.weights.h5'.*ExternalLink|link"):
        model.load_weights(path)
    model, path = _weights_file(tmp_path)
    with h5py.File(path, "r+") as f:
        f["elsewhere"] = f["layers/dense/vars"]  # hard link, fine
        del f["layers/dense/vars"]
        f["layers/dense/vars"] = h5py.SoftLink("/elsewhere")
    with pytest.raises(ValueError, match="SoftLink.*refused"):
        model.load_weights(path)
    raw = tmp_path / "raw.bin"
    np.ones((4, 3), "float32").tofile(raw)
    model, path = _weights_file(tmp_path)
    with h5py.File(path, "r+") as f:
        del f["layers/dense/vars/0"]
        f.create_dataset(
            "layers/dense/vars/0",
            shape=(4, 3),
            dtype="float32",
            external=[(str(raw), 0, 48)],
        )
    with pytest.raises(ValueError, match="outside the file; refused"):
        model.load_weights(path)


def _unrestricted_torch_loads(text: str) -> list[int]:
    """Lines calling ``torch.load`` without ``weights_only=True`` (torch's
    restricted unpickler, which builds only allowlisted classes)."""
    lines = []
    for node in ast.walk(ast.parse(text)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "load"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "torch"
        ):
            restricted = any(
                k.arg == "weights_only"
                and isinstance(k.value, ast.Constant)
                and k.value.value is True
                for k in node.keywords
            )
            if not restricted:
                lines.append(node.lineno)
    return lines


def test_no_pickle_on_the_load_path():
    root = pathlib.Path(lamina.__file__).parent
    for source in root.rglob("*.py"):
        text = source.read_text()
        assert _unrestricted_torch_loads(text) == [], source
        if "import pickle" in text:  # only Keras's dataset files, through an
            # unpickler that refuses every global but NumPy's array rebuilding
            # (tests/test_dataset_utils.py feeds it a malicious file)
            assert source.name == "safe_pickle.py", source
            assert "def find_class" in text, source
        assert "pickle.load" not in text or source.name == "safe_pickle.py", source
        if "import marshal" in text:  # only Lambda, behind the safe-mode check
            assert source.name == "lambda_layer.py", source
