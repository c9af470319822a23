"""``keras.utils.Config``: a dict with attribute access that can be frozen."""

from __future__ import annotations

import copy
import difflib
import json


class Config:
    """A dict-like container of named values, readable and writable as
    attributes or items, that can be frozen against changes and saved as JSON.

    Args:
        **kwargs: the initial values.

    Raises:
        ValueError: when a frozen config is changed.
        AttributeError: for an unknown name (with the closest known one).

    Example:
    >>> from lamina.utils import Config
    >>> config = Config(learning_rate=0.1)
    >>> config.seed = 123
    >>> config["momentum"] = 0.9
    >>> config.to_json()
    '{"learning_rate": 0.1, "seed": 123, "momentum": 0.9}'
    >>> config.freeze()
    >>> config.seed = 1
    Traceback (most recent call last):
    ...
    ValueError: Config: cannot set `seed`: the config is frozen (call unfreeze() first).
    """

    __attrs__ = None

    def __init__(self, **kwargs):
        self._config = kwargs
        self._frozen = False
        self.__attrs__ = set(dir(self))

    @property
    def frozen(self):
        """Whether the config refuses changes."""
        return self._frozen

    def freeze(self):
        """Refuse any further change."""
        self._frozen = True

    def unfreeze(self):
        """Allow changes again."""
        self._frozen = False

    def _check_mutable(self, what):
        if self._frozen:
            raise ValueError(
                f"Config: cannot {what}: the config is frozen (call unfreeze() first)."
            )

    def as_dict(self):
        return copy.copy(self._config)

    def to_json(self):
        return json.dumps(self._config)

    def keys(self):
        return self._config.keys()

    def values(self):
        return self._config.values()

    def items(self):
        return self._config.items()

    def pop(self, *args):
        self._check_mutable(f"pop `{args[0]}`" if args else "pop")
        return self._config.pop(*args)

    def update(self, *args, **kwargs):
        self._check_mutable("update")
        return self._config.update(*args, **kwargs)

    def get(self, keyname, value=None):
        return self._config.get(keyname, value)

    def __setattr__(self, name, value):
        attrs = object.__getattribute__(self, "__attrs__")
        if attrs is None or name in attrs:
            return object.__setattr__(self, name, value)
        self._check_mutable(f"set `{name}`")
        self._config[name] = value

    def __getattr__(self, name):
        attrs = object.__getattribute__(self, "__attrs__")
        if attrs is None or name in attrs:
            return object.__getattribute__(self, name)
        if name in self._config:
            return self._config[name]
        message = f"Config: unknown attribute {name!r}."
        closest = difflib.get_close_matches(name, self._config.keys(), n=1, cutoff=0.7)
        if closest:
            message += f" Did you mean {closest[0]!r}?"
        raise AttributeError(message)

    def __setitem__(self, key, item):
        self._check_mutable(f"set `{key}`")
        self._config[key] = item

    def __getitem__(self, key):
        return self._config[key]

    def __delitem__(self, key):
        self._check_mutable(f"delete `{key}`")
        del self._config[key]

    def __contains__(self, item):
        return item in self._config

    def __iter__(self):
        yield from sorted(self._config.keys())

    def __len__(self):
        return len(self._config)

    def __repr__(self):
        return f"<Config {self._config}>"
