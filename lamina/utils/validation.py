"""One template for every argument error in lamina.

Messages read ``{Class} '{name}': `{arg}` must be {rule}; got {arg}={value!r}.`` so a
user sees which object complained, which argument is wrong, the rule it broke and
the value it was given. Build and call errors add the input shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def describe(owner: Any) -> str:
    """`Dense 'dense_1'` for a named object, `Dense` for a class or nameless object."""
    if isinstance(owner, str):
        return owner
    if isinstance(owner, type):
        return owner.__name__
    name = getattr(owner, "name", None)
    cls = type(owner).__name__
    return f"{cls} '{name}'" if isinstance(name, str) else cls


def arg_error(
    owner: Any, arg: str, rule: str, value: Any, error: type[Exception] = ValueError
) -> Exception:
    """Build (not raise) the standard error so callers write ``raise arg_error(...)``."""
    return error(f"{describe(owner)}: `{arg}` must be {rule}; got {arg}={value!r}.")


def check_choice(owner: Any, arg: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` (lower-cased if a string) when it is one of ``choices``."""
    choices = tuple(choices)
    normalized = value.lower() if isinstance(value, str) else value
    if normalized not in choices:
        rule = "one of " + ", ".join(repr(c) for c in choices)
        raise arg_error(owner, arg, rule, value)
    return normalized


def check_int(
    owner: Any, arg: str, value: Any, minimum: int | None = None, allow_none=False
) -> int | None:
    """An integer (not a bool), at least ``minimum`` when given."""
    if value is None and allow_none:
        return None
    ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok and hasattr(value, "__index__") and not isinstance(value, bool):
        try:
            value, ok = int(value.__index__()), True
        except TypeError:
            ok = False
    if not ok or (minimum is not None and value < minimum):
        rule = "an integer" if minimum is None else f"an integer >= {minimum}"
        raise arg_error(owner, arg, rule, value)
    return value


def check_float(
    owner: Any,
    arg: str,
    value: Any,
    low: float = float("-inf"),
    high: float = float("inf"),
    high_inclusive: bool = True,
) -> float:
    """A real number in [low, high] (or [low, high) when ``high_inclusive`` is off)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    in_range = (
        number is not None
        and low <= number
        and (number <= high if high_inclusive else number < high)
    )
    if isinstance(value, bool) or not in_range:
        closing = "]" if high_inclusive else ")"
        raise arg_error(owner, arg, f"a number in [{low}, {high}{closing}", value)
    return number


def normalize_tuple(
    owner: Any, arg: str, value: Any, n: int, minimum: int = 1
) -> tuple[int, ...]:
    """An int broadcast to ``n`` axes, or a length-``n`` sequence of ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        values = (value,) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise arg_error(
                owner, arg, f"an int or a tuple of {n} ints", value
            ) from None
        if len(values) != n:
            raise arg_error(owner, arg, f"an int or a tuple of {n} ints", value)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            rule = f"an int or a tuple of {n} ints, each >= {minimum}"
            raise arg_error(owner, arg, rule, value)
    return values


def shape_error(owner: Any, expectation: str, shape: Any) -> ValueError:
    """An input-shape error raised at build or call time."""
    return ValueError(f"{describe(owner)}: expected {expectation}, got shape {shape}.")
