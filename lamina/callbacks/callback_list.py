"""``CallbackList``: calls every callback's hook, converting logs to floats."""

from __future__ import annotations

from lamina.callbacks.callback import Callback
from lamina.callbacks.history import History
from lamina.callbacks.progbar_logger import ProgbarLogger
from lamina.utils.python_utils import pythonify_logs

_BATCH_HOOKS = (
    "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin",
    "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end",
)  # fmt: skip


def _overrides(callback, hook: str) -> bool:
    method = getattr(type(callback), hook, None)
    if method is None:  # set on the instance (LambdaCallback)
        return hook in callback.__dict__
    if hook in callback.__dict__:
        return True
    if method is not getattr(Callback, hook):
        return True
    alias = {
        "on_train_batch_begin": "on_batch_begin",
        "on_train_batch_end": "on_batch_end",
    }
    return hook in alias and getattr(type(callback), alias[hook]) is not getattr(
        Callback, alias[hook]
    )


class CallbackList:
    """A list of callbacks called together; adds ``History`` and ``ProgbarLogger``
    when asked (``fit`` does). Batch hooks are only dispatched to callbacks that
    define them, so unused hooks cost nothing per step."""

    def __init__(
        self, callbacks=None, add_history=False, add_progbar=False, model=None, **params
    ):
        self.callbacks = list(callbacks or [])
        if add_history and not any(isinstance(c, History) for c in self.callbacks):
            self.callbacks.append(History())
        if add_progbar and not any(
            isinstance(c, ProgbarLogger) for c in self.callbacks
        ):
            self.callbacks.append(ProgbarLogger())
        self._batch_users = {
            hook: [c for c in self.callbacks if _overrides(c, hook)]
            for hook in _BATCH_HOOKS
        }
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)
        for hook, users in self._batch_users.items():
            if _overrides(callback, hook):
                users.append(callback)

    def set_params(self, params):
        self.params = params
        for callback in self.callbacks:
            callback.set_params(params)

    def set_model(self, model):
        self.model = model
        for callback in self.callbacks:
            callback.set_model(model)

    def _call(self, hook, *args, logs=None):
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            getattr(callback, hook)(*args, logs)
        return logs

    def _call_batch(self, hook, batch, logs):
        users = self._batch_users[hook]
        if not users:
            return
        if all(isinstance(c, ProgbarLogger) for c in users):
            for callback in users:  # the bar reads the tensors only when it draws
                getattr(callback, hook)(batch, logs)
            return
        logs = pythonify_logs(logs)
        for callback in users:
            getattr(callback, hook)(batch, logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs=logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs=logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs=logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs=logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call_batch("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call_batch("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call_batch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call_batch("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call_batch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call_batch("on_predict_batch_end", batch, logs)
