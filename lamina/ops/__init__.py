"""``keras.ops`` for lamina: pure functions on torch tensors."""

from lamina.ops.nn import *  # noqa: F403
from lamina.ops.nn import __all__ as _nn_all
from lamina.ops.numpy import *  # noqa: F403
from lamina.ops.numpy import __all__ as _numpy_all

__all__ = sorted(set(_numpy_all) | set(_nn_all))
