"""``SwapEMAWeights``: evaluate and predict with the optimizer's moving average
of the weights (``use_ema=True``)."""

from __future__ import annotations

import torch

from lamina.callbacks.callback import Callback
from lamina.utils.validation import describe


def _ema_optimizers(optimizer) -> list:
    """The optimizers whose averages to swap: the optimizer itself, the inner
    one of a ``LossScaleOptimizer``, the EMA ones of a ``MultiOptimizer``."""
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)
    if hasattr(optimizer, "optimizers"):
        chosen = [o for o in optimizer.optimizers if getattr(o, "use_ema", False)]
        if not chosen:
            raise ValueError(
                f"SwapEMAWeights: at least one optimizer of {describe(optimizer)} must "
                "have use_ema=True; none has."
            )
        return chosen
    if not getattr(optimizer, "use_ema", False):
        raise ValueError(
            "SwapEMAWeights: the model's optimizer must be created with "
            f"use_ema=True; got {describe(optimizer)} with "
            f"use_ema={getattr(optimizer, 'use_ema', None)!r}."
        )
    return [optimizer]


class SwapEMAWeights(Callback):
    """Swaps the optimizer's exponential moving average of the weights into the
    model for evaluation and prediction, and the training weights back after.

    With ``swap_on_epoch=True`` the averages are also in the model from the end
    of each epoch to the start of the next, so callbacks that run at epoch end
    (``ModelCheckpoint``...) see them, and after the last epoch the averages
    stay (``fit`` then ends with them, as ``use_ema`` does anyway). Keras 3
    leaves the averages in the model after ``predict``; lamina swaps back, as
    documented.

    Args:
        swap_on_epoch: also swap at epoch boundaries (see above).

    Raises:
        ValueError: when no optimizer of the model has ``use_ema=True``.

    Example:
    >>> import numpy as np, lamina as keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer=keras.optimizers.SGD(use_ema=True), loss="mse")
    >>> _ = model.fit(np.ones((8, 2)), np.ones((8, 1)), validation_split=0.5,
    ...               verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = bool(swap_on_epoch)
        self._ema_weights_in_model = False

    def _swap(self) -> None:
        with torch.no_grad():
            for optimizer in _ema_optimizers(self.model.optimizer):
                variables = list(optimizer._trainable_variables)
                averages = list(optimizer._averages)
                training = torch._foreach_mul(variables, 1.0)
                torch._foreach_copy_(variables, averages)
                torch._foreach_copy_(averages, training)

    def _finalize(self) -> None:
        with torch.no_grad():
            for optimizer in _ema_optimizers(self.model.optimizer):
                torch._foreach_copy_(
                    list(optimizer._averages), list(optimizer._trainable_variables)
                )

    def _swap_in(self):
        if not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True

    def _swap_out(self):
        if self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap_out()

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_in()
            if epoch == self.params["epochs"] - 1:
                self._finalize()

    def on_test_begin(self, logs=None):
        self._swap_in()

    def on_test_end(self, logs=None):
        self._swap_out()

    def on_predict_begin(self, logs=None):
        self._swap_in()

    def on_predict_end(self, logs=None):
        self._swap_out()
