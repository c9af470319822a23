"""lamina.config: keras.json, KERAS_HOME, floatx, epsilon, data format, device."""

import json
import subprocess
import sys

import pytest
import torch

from lamina import config


def _settings_in_subprocess(tmp_path, env_home: bool) -> dict:
    code = (
        "import json, lamina.config as c; "
        "print(json.dumps([c.floatx(), c.epsilon(), c.image_data_format()]))"
    )
    env = {"PATH": "/usr/bin:/bin", "KERAS_BACKEND": "torch"}
    if env_home:
        env["KERAS_HOME"] = str(tmp_path)
    else:
        env["HOME"] = str(tmp_path.parent)
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def test_keras_json_under_keras_home_is_honoured(tmp_path):
    (tmp_path / "keras.json").write_text(
        json.dumps(
            {
                "floatx": "float64",
                "epsilon": 1e-5,
                "image_data_format": "channels_first",
            }
        )
    )
    assert _settings_in_subprocess(tmp_path, True) == [
        "float64",
        1e-5,
        "channels_first",
    ]


def test_keras_json_under_home(tmp_path):
    home_keras = tmp_path / ".keras"
    home_keras.mkdir()
    (home_keras / "keras.json").write_text(
        json.dumps({"image_data_format": "channels_first"})
    )
    assert _settings_in_subprocess(home_keras, False)[2] == "channels_first"


def test_keras_json_bad_value_names_the_file(tmp_path):
    path = tmp_path / "keras.json"
    path.write_text(json.dumps({"image_data_format": "nhwc"}))
    with pytest.raises(
        ValueError, match=r"keras.json: `image_data_format` must be one"
    ):
        config.load_keras_json(str(path))


def test_invalid_json_is_ignored_like_keras(tmp_path):
    path = tmp_path / "keras.json"
    path.write_text("{not json")
    assert config.load_keras_json(str(path)) == {}


def test_setters_validate_and_round_trip():
    assert config.floatx() == "float32" and config.epsilon() == 1e-7
    with pytest.raises(ValueError, match=r"set_floatx: `value` must be one of"):
        config.set_floatx("float8")
    with pytest.raises(ValueError, match=r"`data_format` must be one of"):
        config.set_image_data_format("nchw")
    config.set_image_data_format("channels_first")
    try:
        assert config.image_data_format() == "channels_first"
    finally:
        config.set_image_data_format("channels_last")
    config.set_epsilon(1e-3)
    try:
        assert config.epsilon() == 1e-3
    finally:
        config.set_epsilon(1e-7)


def test_device_defaults_to_cuda_when_available_and_can_be_set():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert config.get_device().type == expected
    config.set_device("cpu")
    try:
        assert config.get_device() == torch.device("cpu")
    finally:
        config.set_device(None)
    assert config.backend() == "torch"


def test_import_pulls_in_no_other_framework():
    code = (
        "import sys, lamina, lamina.backend, lamina.ops; "
        "bad = [m for m in ('keras', 'tensorflow', 'jax', 'tf_keras', 'scipy') "
        "if m in sys.modules]; print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert out == "[]"
