"""Looking objects up by name, with errors that suggest the nearest names."""

from __future__ import annotations

import difflib

from lamina.saving import serialization


def resolve(kind: str, name: str, table: dict, custom_objects=None):
    """``table[name]`` (or a registered custom object); an unknown name raises a
    ``ValueError`` naming it, the closest known names and all known names.

    >>> resolve("loss", "mse", {"mse": 1})
    1
    """
    found = serialization.get_registered_object(name, custom_objects, table)
    if found is not None:
        return found
    known = sorted(table, key=str.lower)
    close = difflib.get_close_matches(name, known, n=3)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(
        f"Unknown {kind}: {name!r}.{hint} Known {kind} names: {', '.join(known)}. "
        "Custom objects can be registered with "
        "`lamina.saving.register_keras_serializable`."
    )
