"""Test setup: Keras 3 (the oracle) runs on its torch backend, everything on the CPU.

Every test starts from lamina's default global settings, whatever the test before it
on the same pytest-xdist worker changed.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
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
    yield
    for name, value in saved.items():
        setattr(config, name, value)
