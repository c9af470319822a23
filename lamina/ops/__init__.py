"""``keras.ops`` for lamina: pure functions on torch tensors.

Called on symbolic tensors (``keras.Input``), every function records a graph node
instead (``lamina/ops/symbolic.py`` wraps them all, at the end of this module).
"""

import sys

from lamina.ops import symbolic as _symbolic
from lamina.ops.convolution import (
    conv,
    conv_transpose,
    depthwise_conv,
    separable_conv,
)
from lamina.ops.nn import *  # noqa: F403
from lamina.ops.nn import __all__ as _nn_all
from lamina.ops.numpy import *  # noqa: F403
from lamina.ops.numpy import __all__ as _numpy_all
from lamina.ops.pooling import (
    adaptive_average_pool,
    adaptive_max_pool,
    average_pool,
    max_pool,
)

__all__ = [
    "adaptive_average_pool",
    "adaptive_max_pool",
    "average_pool",
    "conv",
    "conv_transpose",
    "depthwise_conv",
    "max_pool",
    "separable_conv",
]
__all__ += sorted(set(_numpy_all) | set(_nn_all))

_symbolic.install(sys.modules[__name__])
