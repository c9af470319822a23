"""Keras callbacks: hooks into ``fit``/``evaluate``/``predict``."""

from lamina.callbacks.backup_and_restore import BackupAndRestore
from lamina.callbacks.callback import Callback
from lamina.callbacks.callback_list import CallbackList
from lamina.callbacks.early_stopping import EarlyStopping
from lamina.callbacks.history import History
from lamina.callbacks.model_checkpoint import ModelCheckpoint
from lamina.callbacks.monitor import MonitorCallback
from lamina.callbacks.progbar_logger import ProgbarLogger
from lamina.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from lamina.callbacks.remote_monitor import RemoteMonitor
from lamina.callbacks.simple import (
    CSVLogger,
    LambdaCallback,
    LearningRateScheduler,
    TerminateOnNaN,
)
from lamina.callbacks.swap_ema_weights import SwapEMAWeights
from lamina.callbacks.tensorboard import TensorBoard

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "MonitorCallback",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "RemoteMonitor",
    "SwapEMAWeights",
    "TensorBoard",
    "TerminateOnNaN",
]
