"""``Trainer``: Keras's ``compile``/``fit``/``evaluate``/``predict`` for ``Model``.

One training step (``train_step``) is Keras 3's on its torch backend: forward
with ``training=True``, the compiled loss plus the model's ``losses``
(regularizers, ``add_loss``), backward, one optimizer step (constraints applied
after it), metric updates. ``fit`` checks its arguments, prepares the data
(``lamina.trainers.data_adapters``) and the callbacks, then runs the epoch loop of
``lamina.trainers.loops``; what ``compile`` resolves is in
``lamina.trainers.compile_config``.

``compile(jit_compile=True)`` runs the forward pass and the loss through
``torch.compile`` (so its backward is compiled too); the optimizer step stays on
torch's fused kernels. Mixed precision comes from the layers' dtype policies
(``lamina.mixed_precision``); under ``mixed_float16`` ``compile`` wraps the
optimizer in a ``LossScaleOptimizer``.
"""

from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np
import torch

from lamina import config
from lamina import metrics as metrics_module
from lamina.saving.serialization import serialize_keras_object
from lamina.trainers import data_adapters, loops
from lamina.trainers.compile_config import (
    check_names,
    deserialize_compile_config,
    resolve_jit_compile,
    resolve_optimizer,
)
from lamina.trainers.compile_utils import CompileLoss, CompileMetrics
from lamina.trainers.data_adapters import (
    EpochIterator,
    align_inputs,
    single_batch,
    to_numpy,
    unpack_x_y_sample_weight,
)
from lamina.trainers.jit import JitChooser, chosen_step
from lamina.trainers.logs import MetricLogs, ordered_results
from lamina.trainers.loops import cap_epochs, check_validation_freq
from lamina.trainers.strategy import get_strategy
from lamina.utils import tree
from lamina.utils.python_utils import pythonify_logs
from lamina.utils.validation import arg_error, describe


class Trainer:
    """The training API of ``Model`` (a mixin: ``class Model(Trainer, Layer)``)."""

    compiled = False
    optimizer = None
    loss = None
    stop_training = False
    history = None
    steps_per_execution = 1
    train_function = None
    test_function = None
    predict_function = None
    _compile_loss = None
    _compile_metrics = None
    _loss_tracker = None
    _jit_compile = False
    _run_eagerly = False
    _initial_epoch = None
    _initial_step = 0
    _after_skip = None

    # ---------------------------------------------------------------- compile
    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        run_eagerly=False,
        steps_per_execution=1,
        jit_compile="auto",
        auto_scale_loss=True,
    ):
        """Configure the model for training (Keras 3 signature).

        Args:
            optimizer: an optimizer name (``"adam"``) or instance.
            loss: a loss name, function or ``Loss``; a list or a dict (by output
                name) for several outputs.
            loss_weights: weights of the outputs' losses (float, list or dict).
            metrics: metrics to track: a list, or per output a list/dict of lists.
            weighted_metrics: metrics that take ``sample_weight`` into account.
            run_eagerly: accepted for compatibility (lamina always runs eagerly
                unless ``jit_compile``).
            steps_per_execution: batches between batch-level callback calls.
            jit_compile: run the forward pass and loss through ``torch.compile``
                (``"auto"`` means False, as Keras on torch).
            auto_scale_loss: wrap the optimizer in a ``LossScaleOptimizer`` under
                the ``mixed_float16`` policy.

        Raises:
            ValueError: for an unknown optimizer, loss or metric name (naming it).
        """
        optimizer = resolve_optimizer(optimizer, self.dtype_policy, auto_scale_loss)
        check_names(loss, metrics, weighted_metrics)
        self.optimizer = optimizer
        self._compile_loss_and_metrics(loss, loss_weights, metrics, weighted_metrics)
        jit_compile = resolve_jit_compile(jit_compile, run_eagerly)
        self._set_execution(jit_compile, run_eagerly, steps_per_execution)
        self.stop_training = False
        self.compiled = True
        self._compile_config = {
            "optimizer": optimizer,
            "loss": loss,
            "loss_weights": loss_weights,
            "metrics": metrics,
            "weighted_metrics": weighted_metrics,
            "run_eagerly": run_eagerly,
            "steps_per_execution": steps_per_execution,
            "jit_compile": jit_compile,
        }

    def _compile_loss_and_metrics(self, loss, loss_weights, metrics, weighted_metrics):
        """What the steps compute: the compiled loss, metrics and loss tracker."""
        self.loss = loss
        self._compile_loss = (
            CompileLoss(loss, loss_weights, self) if loss is not None else None
        )
        self._compile_metrics = None
        if metrics is not None or weighted_metrics is not None:
            self._compile_metrics = CompileMetrics(metrics, weighted_metrics, self)
        self._loss_tracker = metrics_module.Mean(name="loss")

    def _set_execution(self, jit_compile, run_eagerly, steps_per_execution) -> None:
        """How the steps run; the step functions are rebuilt on next use."""
        self._jit_compile = bool(jit_compile)
        self._run_eagerly = bool(run_eagerly)
        if not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            owner, rule = self._error_owner("compile"), "an integer >= 1"
            raise arg_error(owner, "steps_per_execution", rule, steps_per_execution)
        self.steps_per_execution = steps_per_execution
        self._reset_step_functions()

    @property
    def jit_compile(self) -> bool:
        return self._jit_compile

    @jit_compile.setter
    def jit_compile(self, value) -> None:
        self._jit_compile = bool(value)
        self._reset_step_functions()

    def _reset_step_functions(self) -> None:
        self.train_function = self.test_function = self.predict_function = None
        self.__dict__.pop("_jit_chooser", None)

    @property
    def run_eagerly(self) -> bool:
        return self._run_eagerly

    @run_eagerly.setter
    def run_eagerly(self, value) -> None:
        self._run_eagerly = bool(value)

    def get_compile_config(self) -> dict:
        """The ``compile`` arguments, serialized (for ``.keras`` files)."""
        if not self.compiled:
            return {}
        return serialize_keras_object(self._compile_config)

    def compile_from_config(self, config) -> None:
        """Compile with arguments from ``get_compile_config``."""
        self.compile(**deserialize_compile_config(config))
        if self.built and self.optimizer is not None:
            self.optimizer.build(self.trainable_variables)

    # ---------------------------------------------------------------- metrics
    @property
    def metrics(self) -> list:
        """The loss tracker, the compiled metrics, the per-output loss trackers."""
        found = []
        if self.compiled:
            if self._loss_tracker is not None:
                found.append(self._loss_tracker)
            if self._compile_metrics is not None:
                found.append(self._compile_metrics)
            if self._compile_loss is not None:
                found.extend(self._compile_loss.metrics)
        return found

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    @property
    def metrics_variables(self) -> list:
        return [v for m in self.metrics for v in m.variables]

    def reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def get_metrics_result(self) -> dict:
        """Every metric's current value (dict results are merged in)."""
        results = {}
        for metric in self.metrics:
            value = metric.result()
            if isinstance(value, dict):
                results.update(value)
            else:
                results[metric.name] = value
        return results

    # ------------------------------------------------------------------ steps
    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        """The compiled loss plus every loss in ``self.losses`` (regularization
        and ``add_loss`` terms of the last call), summed."""
        total = None
        if self._compile_loss is not None:
            total = self._compile_loss(y, y_pred, sample_weight)
        for extra in self.losses:
            extra = torch.as_tensor(extra)
            if not extra.is_floating_point():
                extra = extra.float()
            extra = extra.sum()
            total = extra if total is None else total + extra
        if total is None:
            rule = "given to `compile()` when the model adds no losses of its own"
            raise arg_error(self._error_owner("compute_loss"), "loss", rule, None)
        return total

    def _compute_loss(self, x, y, y_pred, sample_weight, training):
        """``compute_loss``, given ``training`` only when it takes it: overrides
        written for earlier Keras 3 releases have no such parameter."""
        if _takes_training(type(self).compute_loss):
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict:
        """Update the compiled metrics and return every metric's value."""
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def _forward_loss(self, x, y, sample_weight):
        y_pred = get_strategy().forward_module(self)(x, training=True)
        return self._compute_loss(x, y, y_pred, sample_weight, training=True), y_pred

    def train_step(self, data) -> dict:
        """One training step on a batch ``data`` = ``x``, ``(x, y)`` or
        ``(x, y, sample_weight)``; returns the metric values."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        jit = self.__dict__.get("_jit_chooser")
        forward = jit.pick(x) if jit is not None else self._forward_loss
        with get_strategy().step_context():
            loss, y_pred = forward(x, y, sample_weight)
            self._loss_tracker.update_state(loss.detach(), _batch_size(x))
            _gradient_step(self, loss)
        if jit is not None:
            jit.done()
        return self._metric_logs(x, y, y_pred, sample_weight)

    def _metric_logs(self, x, y, y_pred, sample_weight):
        """``compute_metrics``, whose values are only computed when read (most steps
        nobody reads them) unless a subclass customizes ``compute_metrics``."""
        if type(self).compute_metrics is not Trainer.compute_metrics:
            return self.compute_metrics(x, y, y_pred, sample_weight)
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return MetricLogs(self)

    def test_step(self, data) -> dict:
        """One evaluation step; returns the metric values."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        strategy = get_strategy()
        with strategy.step_context():
            y_pred = strategy.forward_module(self)(x, training=False)
            loss = self._compute_loss(x, y, y_pred, sample_weight, training=False)
            self._loss_tracker.update_state(loss.detach(), _batch_size(x))
            return self._metric_logs(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """The model's outputs for one batch."""
        x, _, _ = unpack_x_y_sample_weight(data)
        strategy = get_strategy()
        with strategy.step_context():
            return strategy.forward_module(self)(x, training=False)

    def make_train_function(self, force=False):
        if self.train_function is not None and not force:
            return self.train_function
        custom = type(self).train_step is not Trainer.train_step
        if self._jit_compile and custom:
            self.train_function = torch.compile(self.train_step)
        else:
            if self._jit_compile:
                compiled = torch.compile(self._forward_loss)
                self.__dict__["_jit_chooser"] = JitChooser(compiled, self._forward_loss)
            self.train_function = self.train_step
        return self.train_function

    def make_test_function(self, force=False):
        if self.test_function is None or force:
            step = (
                torch.compile(self.test_step) if self._jit_compile else self.test_step
            )
            self.test_function = torch.no_grad()(step)
        return self.test_function

    def make_predict_function(self, force=False):
        if self.predict_function is None or force:
            step = self.predict_step
            if self._jit_compile:  # compiled where that is faster, as in training
                step = chosen_step(JitChooser(torch.compile(step), step, "predict"))
            self.predict_function = torch.no_grad()(step)
        return self.predict_function

    def _assert_compiled(self, method):
        if not self.compiled:
            raise ValueError(
                f"{self._error_owner(method)}: the model must be compiled first; call "
                f"`compile()` before `{method}()`."
            )

    def _error_owner(self, method) -> str:
        """Who raises an error in ``method``: ``Sequential 'name'.fit()``."""
        return f"{describe(self)}.{method}()"

    # -------------------------------------------------------------------- fit
    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        validation_freq=1,
    ):
        """Train the model for ``epochs`` epochs; returns the ``History``.

        Data may be arrays/tensors (with ``y``, ``sample_weight``,
        ``class_weight``, ``validation_split``), dicts/lists of them for several
        inputs or outputs, a generator, a ``PyDataset``, or a torch
        ``DataLoader``/``Dataset`` yielding ``(x, y[, sample_weight])``.

        Raises:
            ValueError: before training, for data whose sizes disagree, targets
                that do not fit the model's outputs, labels outside the classes of
                a sparse crossentropy, or an uncompiled model.
        """
        self._assert_compiled("fit")
        owner = self._error_owner("fit")
        check_validation_freq(validation_freq, owner)
        epochs = cap_epochs(epochs, owner)
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = (
                data_adapters.train_validation_split(
                    (x, y, sample_weight), validation_split, owner
                )
            )
        iterator = EpochIterator(
            get_strategy().data(align_inputs(self, x)), y, sample_weight, batch_size,
            steps_per_epoch, shuffle, class_weight, owner,
        )  # fmt: skip
        data_adapters.require_samples(iterator, owner)
        loops.prepare_training(self, iterator)
        val_iterator = data_adapters.validation_iterator(
            self, validation_data, validation_batch_size or batch_size,
            validation_steps, owner,
        )  # fmt: skip
        callbacks = loops.callback_list(
            self, callbacks, verbose, epochs, iterator.num_batches, add_history=True
        )
        return loops.run_fit(
            self, iterator, val_iterator, callbacks, initial_epoch, epochs,
            validation_freq,
        )  # fmt: skip

    # --------------------------------------------------------------- evaluate
    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
        **kwargs,
    ):
        """The loss and metrics on the given data (a scalar, a list in
        ``metrics_names`` order, or a dict with ``return_dict=True``)."""
        if kwargs:
            given = ", ".join(f"{k}={v!r}" for k, v in sorted(kwargs.items()))
            raise ValueError(
                f"{self._error_owner('evaluate')}: every keyword must be an argument of "
                f"`evaluate()`; got unrecognized {given}."
            )
        self._assert_compiled("evaluate")
        iterator = EpochIterator(
            get_strategy().data(align_inputs(self, x)), y, sample_weight, batch_size,
            steps, owner=self._error_owner("evaluate"), steps_arg="steps",
        )  # fmt: skip
        data_adapters.require_samples(iterator, self._error_owner("evaluate"))
        if not self.built:
            loops.prepare_training(self, iterator)
            self.__dict__.pop("_fit_variables", None)
        callbacks = loops.callback_list(
            self, callbacks, verbose, 1, iterator.num_batches
        )
        logs = loops.evaluate_epoch(self, iterator, callbacks)
        if return_dict:
            return logs
        return ordered_results(self, logs)

    # ---------------------------------------------------------------- predict
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x``, computed in batches without gradients
        and ``training=False``, as NumPy arrays (the output structure kept)."""
        x = align_inputs(self, x)
        fast = verbose == 0 and callbacks is None and steps is None
        fast = fast and type(self).predict_step is Trainer.predict_step
        fast = fast and not self._jit_compile
        fast = fast and not get_strategy().distributed
        if fast and _single_batch(x, batch_size or 32):
            if isinstance(x, np.ndarray):  # as __call__ would: a run plan's key
                x = self._convert_inputs(x)
            with torch.no_grad():
                return to_numpy(self(x, training=False))
        iterator = EpochIterator(
            x, batch_size=batch_size, steps_per_epoch=steps,
            owner=self._error_owner("predict"), steps_arg="steps",
        )  # fmt: skip
        callbacks = loops.callback_list(
            self, callbacks, verbose, 1, iterator.num_batches
        )
        return loops.predict_batches(self, iterator, callbacks)

    # -------------------------------------------------------------- on batch
    def train_on_batch(
        self, x, y=None, sample_weight=None, class_weight=None, return_dict=False
    ):
        """One training step on one batch; returns the metrics (reset first)."""

        self._assert_compiled("train_on_batch")
        owner = self._error_owner("train_on_batch")
        sample_weight = data_adapters.weights_from_classes(
            y, sample_weight, class_weight, owner
        )
        batch = single_batch(align_inputs(self, x), y, sample_weight, owner)
        self._prepare_batch(batch)
        self.make_train_function()
        self.reset_metrics()
        self.train()
        try:
            logs = pythonify_logs(self.train_function(batch))
        finally:
            self.eval()
        return logs if return_dict else ordered_results(self, logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """One evaluation step on one batch; returns the metrics (reset first)."""

        self._assert_compiled("test_on_batch")
        owner = self._error_owner("test_on_batch")
        batch = single_batch(align_inputs(self, x), y, sample_weight, owner)
        self.reset_metrics()
        self.eval()
        logs = pythonify_logs(self.make_test_function()(batch))
        return logs if return_dict else ordered_results(self, logs)

    def predict_on_batch(self, x):
        """The model's outputs for one batch, as NumPy arrays."""
        self.eval()
        x = data_adapters.convert_structure(
            align_inputs(self, x), self._error_owner("predict_on_batch")
        )
        x = data_adapters.to_device(x, config.get_device())
        return to_numpy(self.make_predict_function()((x,)))

    def _prepare_batch(self, batch):
        if not self.built:
            with torch.no_grad():
                self(batch[0], training=False)
        if self.optimizer is not None and not self.optimizer.built:
            self.optimizer.build(self.trainable_weights)


# ------------------------------------------------------------------ helpers
def _gradient_step(model, loss) -> None:
    """Backward from ``loss`` and one optimizer update of the trained variables."""
    variables = model.__dict__.get("_fit_variables") or model.trainable_weights
    for variable in variables:
        variable.grad = None
    if variables:
        model.optimizer.scale_loss(loss).backward()
        model.optimizer.apply([v.grad for v in variables], variables)
    else:
        warnings.warn(
            f"{describe(model)}: the model does not have any trainable weights.",
            stacklevel=3,
        )


def _batch_size(x) -> int:
    if isinstance(x, torch.Tensor):
        return int(x.shape[0])
    return int(next(t for t in tree.flatten(x) if t is not None).shape[0])


def _single_batch(x, batch_size) -> bool:
    leaves = tree.flatten(x) if isinstance(x, (list, tuple, dict)) else [x]
    if not leaves or not all(isinstance(t, (np.ndarray, torch.Tensor)) for t in leaves):
        return False
    return all(t.ndim and t.shape[0] <= batch_size for t in leaves)


@functools.cache
def _takes_training(compute_loss) -> bool:
    parameters = inspect.signature(compute_loss).parameters.values()
    return any(
        p.name == "training" or p.kind is inspect.Parameter.VAR_KEYWORD
        for p in parameters
    )
