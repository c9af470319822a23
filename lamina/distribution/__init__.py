"""``keras.distribution`` on ``torch.distributed``: data parallelism with
``DistributedDataParallel``, model parallelism with ``DTensor``.

Launch one process per device with ``torchrun``; in each, call
``initialize()``, then ``set_distribution(DataParallel())`` (or a
``ModelParallel``) before ``fit``. ``fit``/``evaluate``/``predict`` then call the
strategy at their fixed hook points (``lamina.trainers.strategy``).
"""

from lamina.distribution.data_parallel import DataParallel, Distribution
from lamina.distribution.mesh import (
    DeviceMesh,
    LayoutMap,
    TensorLayout,
    distribute_tensor,
    get_device_count,
    initialize,
    list_devices,
)
from lamina.distribution.model_parallel import ModelParallel
from lamina.trainers import strategy as _strategy

__all__ = [
    "DataParallel",
    "DeviceMesh",
    "Distribution",
    "LayoutMap",
    "ModelParallel",
    "TensorLayout",
    "distribute_tensor",
    "distribution",
    "get_device_count",
    "initialize",
    "list_devices",
    "set_distribution",
]


def set_distribution(value) -> None:
    """Use ``value`` (a ``DataParallel``/``ModelParallel``, or None) from now on."""
    _strategy.set_strategy(value)


def distribution():
    """The distribution in use, or None."""
    current = _strategy.get_strategy()
    return current if isinstance(current, Distribution) else None
