"""Merge layers: combine a list of tensors elementwise (Add, Subtract, Multiply,
Average, Maximum, Minimum), by concatenation or by a dot product; each has a
functional form (``add([a, b])`` builds ``Add()`` and calls it)."""

from lamina.layers.merging.add import Add, add
from lamina.layers.merging.average import Average, average
from lamina.layers.merging.concatenate import Concatenate, concatenate
from lamina.layers.merging.dot import Dot, dot
from lamina.layers.merging.maximum import Maximum, maximum
from lamina.layers.merging.minimum import Minimum, minimum
from lamina.layers.merging.multiply import Multiply, multiply
from lamina.layers.merging.subtract import Subtract, subtract

__all__ = [
    "Add",
    "Average",
    "Concatenate",
    "Dot",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
    "add",
    "average",
    "concatenate",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
]
