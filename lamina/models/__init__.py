"""Models: ``Model`` (functional or subclassed) and ``Sequential``."""

from lamina.models.cloning import clone_model
from lamina.models.functional import Functional
from lamina.models.model import Model
from lamina.models.sequential import Sequential


def model_from_config(config, custom_objects=None, safe_mode=True):
    """A model from its serialization dict (Keras 1, 2 or 3; safe mode applies)."""
    from lamina.saving.model_config import model_from_config as from_config

    return from_config(config, custom_objects, safe_mode)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a ``.keras``, Keras 1/2 ``.h5`` or JSON model file (see
    ``lamina.saving.load_model``)."""
    from lamina.saving.saving_api import load_model as load

    return load(filepath, custom_objects, compile, safe_mode)


def save_model(model, filepath, overwrite=True, **kwargs):
    """Save ``model`` (see ``lamina.saving.save_model``)."""
    from lamina.saving.saving_api import save_model as save

    save(model, filepath, overwrite=overwrite, **kwargs)


def model_from_json(json_string, custom_objects=None, safe_mode=True):
    """A model from ``model.to_json()`` output (Keras 1, 2 or 3)."""
    from lamina.saving.model_config import model_from_json as from_json

    return from_json(json_string, custom_objects, safe_mode)


__all__ = [
    "Functional",
    "Model",
    "Sequential",
    "clone_model",
    "load_model",
    "model_from_config",
    "model_from_json",
    "save_model",
]
