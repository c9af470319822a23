"""``set_random_seed``: one call seeds Python, NumPy and torch."""

from __future__ import annotations

import random
import sys

import numpy as np
import torch

from lamina.utils.validation import arg_error

_seed: int | None = None


def set_random_seed(seed):
    """Seeds Python's ``random``, NumPy's global generator and torch's (CPU and
    every CUDA device), so a program's weights, dropout masks and shuffles repeat.

    Layers and ``keras.random`` calls without their own ``seed`` draw from torch's
    global generator, which this resets. TensorFlow is seeded too when it is
    installed and already imported (``tf.data`` pipelines).

    Args:
        seed: an integer.

    Raises:
        ValueError: when ``seed`` is not an integer.

    Example:
    >>> import numpy as np, lamina as keras
    >>> keras.utils.set_random_seed(1)
    >>> a = np.random.rand()
    >>> keras.utils.set_random_seed(1)
    >>> a == np.random.rand()
    True
    """
    global _seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise arg_error("set_random_seed", "seed", "an integer", seed)
    seed = int(seed)
    _seed = seed
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    tf = sys.modules.get("tensorflow")
    if tf is not None and hasattr(tf, "random"):
        tf.random.set_seed(seed)


def get_random_seed() -> int | None:
    """The seed last given to ``set_random_seed`` (``None`` if never called)."""
    return _seed
