"""Weight options written once: the ``<name>_initializer``, ``<name>_regularizer``
and ``<name>_constraint`` arguments a layer takes for its weight ``<name>``
(``kernel``, ``bias``, ``embeddings``, ...), kept as public attributes as in Keras.

In ``__init__``, ``build`` and ``get_config``::

    set_weight_options(
        self, "kernel", kernel_initializer, kernel_regularizer, kernel_constraint
    )
    self.kernel = self.add_weight(shape=..., name="kernel",
                                  **weight_options(self, "kernel"))
    config.update(weight_options_config(self, "kernel", "bias"))

Example:
>>> import lamina as keras
>>> layer = keras.layers.Layer()
>>> set_weight_options(layer, "kernel", "ones", "l2", None)
>>> type(layer.kernel_regularizer).__name__
'L2'
>>> list(weight_options_config(layer, "kernel"))
['kernel_initializer', 'kernel_regularizer', 'kernel_constraint']
>>> kernel = layer.add_weight((2,), name="kernel", **weight_options(layer, "kernel"))
>>> kernel.numpy().tolist()
[1.0, 1.0]
"""

from __future__ import annotations

from lamina import constraints, initializers, regularizers
from lamina.saving.serialization import serialize_keras_object as serialize

KINDS = ("initializer", "regularizer", "constraint")


def set_weight_options(
    layer, name: str, initializer=None, regularizer=None, constraint=None
) -> None:
    """Set ``layer.<name>_initializer``, ``_regularizer`` and ``_constraint`` from
    constructor arguments (a name, a config dict, an object or None)."""
    setattr(layer, f"{name}_initializer", initializers.get(initializer))
    setattr(layer, f"{name}_regularizer", regularizers.get(regularizer))
    setattr(layer, f"{name}_constraint", constraints.get(constraint))


def weight_options(layer, name: str) -> dict:
    """``add_weight``'s ``initializer``, ``regularizer`` and ``constraint`` for the
    weight ``name``."""
    return {kind: getattr(layer, f"{name}_{kind}") for kind in KINDS}


def weight_options_config(layer, *names: str, activity: bool = False) -> dict:
    """The config entries of the options of the weights ``names``, in Keras's
    order: every initializer, every regularizer, every constraint. ``activity``
    adds ``activity_regularizer`` after the regularizers (where Keras puts it)."""
    config = {}
    for kind in KINDS:
        for name in names:
            config[f"{name}_{kind}"] = serialize(getattr(layer, f"{name}_{kind}"))
        if kind == "regularizer" and activity:
            config["activity_regularizer"] = serialize(layer.activity_regularizer)
    return config
