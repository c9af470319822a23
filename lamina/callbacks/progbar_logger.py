"""``ProgbarLogger``: the progress display of ``fit``/``evaluate``/``predict``."""

from __future__ import annotations

from lamina.callbacks.callback import Callback
from lamina.utils.progbar import Progbar, print_msg


class ProgbarLogger(Callback):
    """Shows a progress bar per epoch (see ``lamina.utils.progbar``); added by
    ``fit``/``evaluate``/``predict`` unless ``verbose=0``. Validation inside
    ``fit`` shows no bar of its own: its metrics join the epoch's line."""

    def __init__(self):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params):
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _reset(self):
        if self.progbar is not None:
            self.progbar.close()
        self.seen = 0
        self.progbar = None

    def _ensure_progbar(self):
        if self.progbar is None:
            self.progbar = Progbar(self.target, verbose=self.verbose)

    def _update(self, batch, logs):
        self.seen = batch + 1
        self._ensure_progbar()
        if self.verbose == 1:
            self.progbar.update(self.seen, logs, finalize=False)

    def _finalize(self, logs):
        self._ensure_progbar()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.seen
        items = sorted(logs.items()) if logs else None
        self.progbar.update(self.target, items, finalize=True)
        self.progbar = None

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def on_train_end(self, logs=None):
        self._called_in_fit = False
        self._reset()

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset()
            self._ensure_progbar()

    def on_predict_begin(self, logs=None):
        self._reset()
        self._ensure_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset()
        if self.verbose and self.epochs > 1:
            print_msg(f"Epoch {epoch + 1}/{self.epochs}")
        self._ensure_progbar()

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch, None)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize(logs)

    def on_predict_end(self, logs=None):
        self._finalize(logs)
