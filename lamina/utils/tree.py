"""Nested structures of lists, tuples and dicts (dict keys in sorted order, as Keras)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def flatten(structure: Any) -> list:
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    return [structure]


def pack_sequence_as(structure: Any, flat: list) -> Any:
    """``flat``'s leaves in the shape of ``structure``. (A module-level helper, not
    a recursive closure: a closure that calls itself is a reference cycle, which
    kept every call's outputs alive until the garbage collector ran.)"""
    if not isinstance(structure, (list, tuple, dict)):
        return flat[0]
    return _pack(structure, iter(flat))


def _pack(node, leaves):
    if isinstance(node, (list, tuple)):
        packed = [_pack(item, leaves) for item in node]
        return type(node)(packed) if isinstance(node, list) else tuple(packed)
    if isinstance(node, dict):
        return {key: _pack(node[key], leaves) for key in sorted(node)}
    return next(leaves)


def map_structure(fn: Callable, structure: Any) -> Any:
    return pack_sequence_as(structure, [fn(leaf) for leaf in flatten(structure)])


def is_nested(structure: Any) -> bool:
    return isinstance(structure, (list, tuple, dict))
