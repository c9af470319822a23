"""Test setup: Keras 3 (the oracle) runs on its torch backend, everything on the CPU.

Every test starts from lamina's default global settings, whatever the test before it
on the same pytest-xdist worker changed.

``LAMINA_TEST_DEVICE=cuda pytest -m cuda`` runs the tests marked ``cuda`` (the
layer oracle suite) with lamina's weights on the GPU (``make test-cuda``); without
it CUDA is hidden, so the CPU suite never needs a device.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
TEST_DEVICE = os.environ.get("LAMINA_TEST_DEVICE", "cpu")
if TEST_DEVICE == "cpu":
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from lamina import config  # noqa: E402

_GLOBALS = (
    "_floatx",
    "_epsilon",
    "_image_data_format",
    "_device",
    "_dtype_policy",
    "_unsafe_deserialization",
    "_max_epochs",
    "_max_steps_per_epoch",
    "_interactive_logging",
    "_traceback_filtering",
    "_flash_attention",
)


@pytest.fixture(autouse=True)
def _isolated_globals():
    np.random.seed(0)
    torch.manual_seed(0)
    saved = {name: getattr(config, name) for name in _GLOBALS}
    if TEST_DEVICE != "cpu":
        config.set_device(TEST_DEVICE)
    yield
    for name, value in saved.items():
        setattr(config, name, value)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "cuda: runs on the GPU too under LAMINA_TEST_DEVICE=cuda"
    )
    if TEST_DEVICE != "cpu" and not torch.cuda.is_available():
        raise pytest.UsageError(
            f"LAMINA_TEST_DEVICE={TEST_DEVICE!r} needs a CUDA device; none is visible."
        )
