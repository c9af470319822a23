"""Training: ``Trainer`` (compile/fit/evaluate/predict), data adapters, progress."""

from lamina.trainers.trainer import Trainer

__all__ = ["Trainer"]
