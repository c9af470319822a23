"""Models: ``Model`` (functional or subclassed) and ``Sequential``, and the model
functions of ``keras.models`` (loading and saving are ``lamina.saving``'s)."""

from lamina.layers import legacy as _legacy
from lamina.models.cloning import clone_model
from lamina.models.functional import Functional
from lamina.models.model import Model
from lamina.models.sequential import Sequential
from lamina.saving import registry as _registry
from lamina.saving.model_config import model_from_config, model_from_json
from lamina.saving.saving_api import load_model, save_model
from lamina.trainers.trainer import Trainer as _Trainer

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

_registry.register(
    "layers", {"Functional": Functional, "Model": Model, "Sequential": Sequential}
)
# Keras 1 keywords of Model(input=..., output=...) and fit(nb_epoch=...).
_legacy.install_methods(_Trainer, Model, Functional)
