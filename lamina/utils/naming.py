"""Keras-style automatic names: ``dense``, ``dense_1``, ``dense_2`` ..."""

from __future__ import annotations

import collections
import re

_uids: collections.Counter = collections.Counter()


def to_snake_case(name: str) -> str:
    """``MaxPooling2D`` -> ``max_pooling2d``, ``SimpleRNN`` -> ``simple_rnn``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def uniquify(base: str) -> str:
    """The first request for ``base`` gets it bare; later ones get ``base_1``, ..."""
    count = _uids[base]
    _uids[base] += 1
    return base if count == 0 else f"{base}_{count}"


def auto_name(class_name: str) -> str:
    return uniquify(to_snake_case(class_name))


def reset_uids() -> None:
    """Forget issued names (``clear_session``)."""
    _uids.clear()
