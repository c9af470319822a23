"""Training: ``Trainer`` (compile/fit/evaluate/predict), data adapters."""

from lamina.trainers.trainer import Trainer

__all__ = ["Trainer"]
