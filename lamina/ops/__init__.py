"""``keras.ops`` for lamina: pure functions on torch tensors.

Each module mirrors the Keras module its functions come from (``keras.src.ops.
core``, ``einops``, ``math``, ``numpy``, ``nn``, ``linalg``); ``lamina.ops`` gathers their
``__all__`` as ``keras.ops`` does. ``lamina.ops.image``, like ``keras.ops.image``,
is a submodule only.

Called on symbolic tensors (``keras.Input``), every function records a graph node
instead (``lamina/ops/symbolic.py`` wraps them all, at the end of this module).
"""

import sys

from lamina.ops import core, einops, linalg, math, nn, numpy
from lamina.ops import image as image  # a submodule, as keras.ops.image
from lamina.ops import symbolic as _symbolic
from lamina.ops.core import *  # noqa: F403
from lamina.ops.einops import *  # noqa: F403
from lamina.ops.linalg import *  # noqa: F403
from lamina.ops.math import *  # noqa: F403
from lamina.ops.nn import *  # noqa: F403
from lamina.ops.numpy import *  # noqa: F403

__all__ = sorted(
    set(core.__all__)
    | set(einops.__all__)
    | set(math.__all__)
    | set(linalg.__all__)
    | set(nn.__all__)
    | set(numpy.__all__)
)

_symbolic.install(sys.modules[__name__])
