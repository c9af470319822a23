"""Models: ``Model`` (functional or subclassed) and ``Sequential``."""

from lamina.models.functional import Functional
from lamina.models.model import Model
from lamina.models.sequential import Sequential


def model_from_config(config, custom_objects=None):
    from lamina.layers import deserialize

    return deserialize(config, custom_objects=custom_objects)


__all__ = ["Functional", "Model", "Sequential", "model_from_config"]
