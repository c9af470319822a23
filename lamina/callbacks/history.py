"""``History``: records the epoch logs; ``fit`` returns it."""

from __future__ import annotations

from lamina.callbacks.callback import Callback


class History(Callback):
    """``history.history[name]`` is the list of that metric's per-epoch values;
    ``history.epoch`` the epoch indices. Added to every ``fit`` automatically."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self
