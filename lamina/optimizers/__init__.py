"""Keras optimizers on torch's multi-tensor kernels, by name too.

>>> import lamina as keras
>>> keras.optimizers.get("rmsprop").get_config()["rho"]
0.9
"""

from __future__ import annotations

from lamina.optimizers import legacy, schedules
from lamina.optimizers.adafactor import Adafactor
from lamina.optimizers.adagrad import Adadelta, Adagrad
from lamina.optimizers.adam import Adam, AdamW
from lamina.optimizers.adamax import Adamax, Nadam
from lamina.optimizers.ftrl import Ftrl
from lamina.optimizers.lamb import Lamb
from lamina.optimizers.lion import Lion
from lamina.optimizers.loss_scale_optimizer import LossScaleOptimizer
from lamina.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from lamina.optimizers.muon import Muon
from lamina.optimizers.optimizer import Optimizer
from lamina.optimizers.optimizer import deserialize as deserialize
from lamina.optimizers.optimizer import get as get
from lamina.optimizers.optimizer import serialize as serialize
from lamina.optimizers.rmsprop import RMSprop
from lamina.optimizers.schedule_free_adamw import ScheduleFreeAdamW
from lamina.optimizers.sgd import SGD
from lamina.saving import registry

_CLASSES = (
    Optimizer, SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam,
    Adafactor, Lion, LossScaleOptimizer, Ftrl, Lamb, Muon, ScheduleFreeAdamW,
    MultiOptimizer, OptimizerMap,
)  # fmt: skip
ALL_OBJECTS = {cls.__name__.lower(): cls for cls in _CLASSES}
ALL_OBJECTS.update({cls.__name__: cls for cls in _CLASSES})


registry.register("optimizers", ALL_OBJECTS)

__all__ = [cls.__name__ for cls in _CLASSES] + [
    "deserialize",
    "get",
    "legacy",
    "schedules",
    "serialize",
]
