"""``keras.optimizers.legacy``: Keras 2 optimizer names that Keras 3 refuses.

Keras 3 keeps these names only so old imports resolve; constructing one raises
``ImportError`` (as Keras 3 does) pointing at the Keras 3 optimizer to use.

>>> import lamina as keras
>>> keras.optimizers.legacy.Adam()
Traceback (most recent call last):
...
ImportError: keras.optimizers.legacy.Adam is not supported in Keras 3 (nor in lamina); use keras.optimizers.Adam, which takes the same main arguments.
"""

from __future__ import annotations


def _refusing(name: str) -> type:
    def __init__(self, *args, **kwargs):
        raise ImportError(
            f"keras.optimizers.legacy.{name} is not supported in Keras 3 (nor in "
            f"lamina); use keras.optimizers.{name}, which takes the same main "
            "arguments."
        )

    return type(name, (), {"__init__": __init__, "__module__": __name__})


Adagrad = _refusing("Adagrad")
Adam = _refusing("Adam")
Ftrl = _refusing("Ftrl")
Optimizer = _refusing("Optimizer")
RMSprop = _refusing("RMSprop")
SGD = _refusing("SGD")

__all__ = ["SGD", "Adagrad", "Adam", "Ftrl", "Optimizer", "RMSprop"]
