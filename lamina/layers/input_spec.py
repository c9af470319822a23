"""``InputSpec``: what a layer accepts, checked with messages that say what is wrong."""

from __future__ import annotations

from lamina.utils import tree
from lamina.utils.validation import describe


class InputSpec:
    """Constraints on a layer input: rank (``ndim``/``min_ndim``/``max_ndim``), exact
    ``shape`` (``None`` = any size), fixed sizes of some ``axes`` and ``dtype``."""

    def __init__(
        self,
        dtype=None,
        shape=None,
        ndim=None,
        max_ndim=None,
        min_ndim=None,
        axes=None,
        allow_last_axis_squeeze=False,
        name=None,
        optional=False,
    ):
        self.dtype = dtype
        self.shape = tuple(shape) if shape is not None else None
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = {int(k): v for k, v in (axes or {}).items()}
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.name = name
        self.optional = optional

    def get_config(self):
        return {
            "dtype": self.dtype,
            "shape": self.shape,
            "ndim": self.ndim,
            "max_ndim": self.max_ndim,
            "min_ndim": self.min_ndim,
            "axes": self.axes,
        }

    def __repr__(self):
        parts = [f"{k}={v}" for k, v in self.get_config().items() if v]
        return f"InputSpec({', '.join(parts)})"


def _rank_rule(spec: InputSpec) -> str | None:
    if spec.ndim is not None:
        return f"rank {spec.ndim}"
    if spec.min_ndim is not None and spec.max_ndim is not None:
        return f"rank between {spec.min_ndim} and {spec.max_ndim}"
    if spec.min_ndim is not None:
        return f"rank >= {spec.min_ndim}"
    if spec.max_ndim is not None:
        return f"rank <= {spec.max_ndim}"
    return None


def _check_one(spec: InputSpec, shape: tuple, layer, index: int | None) -> None:
    what = "input" if index is None else f"input {index}"
    rank = len(shape)
    rank_ok = (
        (spec.ndim is None or rank == spec.ndim)
        and (spec.min_ndim is None or rank >= spec.min_ndim)
        and (spec.max_ndim is None or rank <= spec.max_ndim)
    )
    if not rank_ok:
        rule = _rank_rule(spec)
        hint = f" {spec.name}" if spec.name else ""
        raise ValueError(
            f"{describe(layer)}: expected {what} of {rule}{hint}, got shape {shape}."
        )
    for axis, size in spec.axes.items():
        if size is None:
            continue
        if not -rank <= axis < rank:
            raise ValueError(
                f"{describe(layer)}: expected {what} with an axis {axis} of "
                f"size {size}, got shape {shape}."
            )
        actual = shape[axis]
        if actual is not None and actual != size:
            raise ValueError(
                f"{describe(layer)}: expected {what} with axis {axis} of size {size} "
                f"(the size it was built for), got shape {shape}."
            )
    if spec.shape is not None:
        for want, got in zip(spec.shape, shape):
            if want is not None and got is not None and want != got:
                raise ValueError(
                    f"{describe(layer)}: expected {what} of shape "
                    f"{spec.shape}, got shape {shape}."
                )


def assert_input_compatibility(input_spec, inputs, layer) -> None:
    """Raise a ValueError naming ``layer`` when ``inputs`` break ``input_spec``."""
    if not input_spec:
        return
    specs = input_spec if isinstance(input_spec, (list, tuple)) else [input_spec]
    flat = tree.flatten(inputs)
    if len(specs) != len(flat):
        raise ValueError(
            f"{describe(layer)}: expected {len(specs)} input(s), got {len(flat)}."
        )
    many = len(specs) > 1
    for i, (spec, x) in enumerate(zip(specs, flat)):
        if spec is None or (x is None and spec.optional):
            continue
        shape = getattr(x, "shape", None)
        if shape is None:
            raise ValueError(
                f"{describe(layer)}: expected a tensor as input, got "
                f"{type(x).__name__}."
            )
        _check_one(spec, tuple(shape), layer, i if many else None)
