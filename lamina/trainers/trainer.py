"""``Trainer``: Keras's ``compile``/``fit``/``evaluate``/``predict`` for ``Model``.

One training step (``train_step``) is Keras 3's on its torch backend: forward
with ``training=True``, the compiled loss plus the model's ``losses``
(regularizers, ``add_loss``), backward, one optimizer step (constraints applied
after it), metric updates. ``fit`` loops over epochs and batches from
``lamina.trainers.data_adapters`` with callbacks around each; the loop itself
keeps Python work per step to a few calls, and metric values stay tensors until
something displays or records them.

``compile(jit_compile=True)`` runs the forward pass and the loss through
``torch.compile`` (so its backward is compiled too); the optimizer step stays on
torch's fused kernels. Mixed precision comes from the layers' dtype policies
(``lamina.mixed_precision``); under ``mixed_float16`` ``compile`` wraps the
optimizer in a ``LossScaleOptimizer``.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from lamina import callbacks as callbacks_module
from lamina import config, losses, optimizers
from lamina import metrics as metrics_module
from lamina.saving.serialization import serialize_keras_object
from lamina.trainers import data_adapters
from lamina.trainers.compile_utils import CompileLoss, CompileMetrics
from lamina.trainers.data_adapters import EpochIterator, unpack_x_y_sample_weight
from lamina.trainers.jit import JitChooser
from lamina.trainers.logs import MetricLogs
from lamina.utils import tree
from lamina.utils.python_utils import pythonify_logs
from lamina.utils.validation import describe


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
        optimizer = optimizers.get(optimizer)
        if (
            auto_scale_loss
            and self.dtype_policy.name == "mixed_float16"
            and optimizer is not None
            and not isinstance(optimizer, optimizers.LossScaleOptimizer)
        ):
            optimizer = optimizers.LossScaleOptimizer(
                optimizer, name="loss_scale_optimizer"
            )
        _check_names(loss, losses.get, ("crossentropy", "ce"))
        _check_names(metrics, metrics_module.get, ("accuracy", "acc"))
        _check_names(weighted_metrics, metrics_module.get, ("accuracy", "acc"))
        self.optimizer = optimizer
        self.loss = loss
        self._compile_loss = (
            CompileLoss(loss, loss_weights, self) if loss is not None else None
        )
        self._compile_metrics = None
        if metrics is not None or weighted_metrics is not None:
            self._compile_metrics = CompileMetrics(metrics, weighted_metrics, self)
        self._loss_tracker = metrics_module.Mean(name="loss")
        if jit_compile == "auto":
            jit_compile = False
        if jit_compile and run_eagerly:
            warnings.warn(
                "If `run_eagerly` is True, then `jit_compile` cannot also be True. "
                "Disabling `jit_compile`.",
                stacklevel=2,
            )
            jit_compile = False
        self._jit_compile = bool(jit_compile)
        self._run_eagerly = bool(run_eagerly)
        if not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(
                f"{describe(self)}: `steps_per_execution` must be an integer >= 1; "
                f"got steps_per_execution={steps_per_execution!r}."
            )
        self.steps_per_execution = steps_per_execution
        self.stop_training = False
        self.compiled = True
        self._reset_step_functions()
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
        config = dict(config)
        config["optimizer"] = optimizers.get(config.get("optimizer"))
        config["loss"] = _deserialize_nested(config.get("loss"), losses.deserialize)
        for key in ("metrics", "weighted_metrics"):
            config[key] = _deserialize_nested(
                config.get(key), metrics_module.deserialize
            )
        self.compile(**config)
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
            raise ValueError(
                f"{describe(self)}: no loss to compute. Provide a `loss` argument in "
                "`compile()`."
            )
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict:
        """Update the compiled metrics and return every metric's value."""
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def _forward_loss(self, x, y, sample_weight):
        y_pred = self(x, training=True)
        return self.compute_loss(x, y, y_pred, sample_weight, training=True), y_pred

    def train_step(self, data) -> dict:
        """One training step on a batch ``data`` = ``x``, ``(x, y)`` or
        ``(x, y, sample_weight)``; returns the metric values."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        jit = self.__dict__.get("_jit_chooser")
        forward = jit.pick(x) if jit is not None else self._forward_loss
        loss, y_pred = forward(x, y, sample_weight)
        self._loss_tracker.update_state(loss.detach(), _batch_size(x))
        variables = self.__dict__.get("_fit_variables") or self.trainable_weights
        for variable in variables:
            variable.grad = None
        if variables:
            self.optimizer.scale_loss(loss).backward()
            self.optimizer.apply([v.grad for v in variables], variables)
        else:
            warnings.warn(
                "The model does not have any trainable weights.", stacklevel=2
            )
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
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._loss_tracker.update_state(loss.detach(), _batch_size(x))
        return self._metric_logs(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """The model's outputs for one batch."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

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
            if self._jit_compile:
                step = torch.compile(step)
            self.predict_function = torch.no_grad()(step)
        return self.predict_function

    def _assert_compiled(self, method):
        if not self.compiled:
            raise ValueError(
                f"{describe(self)}: you must call `compile()` before `{method}()`."
            )

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
        _check_validation_freq(validation_freq)
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = (
                data_adapters.train_validation_split(
                    (x, y, sample_weight), validation_split
                )
            )
        iterator = EpochIterator(
            self._align_inputs(x), y, sample_weight, batch_size, steps_per_epoch,
            shuffle, class_weight,
        )  # fmt: skip
        self._prepare(iterator)
        val_iterator = None
        if validation_data is not None:
            val_x, val_y, val_sw = unpack_x_y_sample_weight(validation_data)
            val_iterator = EpochIterator(
                self._align_inputs(val_x), val_y, val_sw,
                validation_batch_size or batch_size, validation_steps,
            )  # fmt: skip
        if not isinstance(callbacks, callbacks_module.CallbackList):
            callbacks = callbacks_module.CallbackList(
                callbacks,
                add_history=True,
                add_progbar=verbose != 0,
                model=self,
                verbose=verbose,
                epochs=epochs,
                steps=iterator.num_batches,
            )
        self.stop_training = False
        self.make_train_function()
        self._initial_epoch, self._initial_step = None, 0
        callbacks.on_train_begin()
        start = self._initial_epoch or initial_epoch
        epoch_logs = {}
        try:
            for epoch in range(start, epochs):
                epoch_logs = self._fit_epoch(epoch, iterator, callbacks)
                if val_iterator is not None and _should_eval(epoch, validation_freq):
                    val_logs = self._evaluate_loop(val_iterator, callbacks)
                    epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                callbacks.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
        finally:
            self.eval()
            self.__dict__.pop("_fit_variables", None)
        if self.optimizer is not None and epochs > start:
            self.optimizer.finalize_variable_values(self.trainable_weights)
        callbacks.on_train_end(logs=epoch_logs)
        history = next(
            (c for c in callbacks.callbacks if isinstance(c, callbacks_module.History)),
            self.history,
        )
        self.history = history
        return history

    def _fit_epoch(self, epoch, iterator, callbacks) -> dict:
        self.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        self.train()
        step_function = self.train_function
        every = self.steps_per_execution
        skip, self._initial_step = self._initial_step, 0
        logs = {}
        last = iterator.num_batches
        for step, batch in iterator:
            if skip:
                skip -= 1
                if not skip and self._after_skip is not None:
                    self._after_skip()
                    self._after_skip = None
                continue
            begin = step % every == 0
            if begin:
                callbacks.on_train_batch_begin(step)
            logs = step_function(batch)
            if (step + 1) % every == 0 or step + 1 == last:
                callbacks.on_train_batch_end(step, logs)
            if self.stop_training:
                break
        self.eval()
        return self._epoch_logs(logs)

    def _epoch_logs(self, logs) -> dict:
        results = self.get_metrics_result()
        if isinstance(logs, dict) and logs and set(logs) != set(results):
            return dict(logs)  # a custom train_step reporting its own values
        return results

    def _prepare(self, iterator) -> None:
        """Build the model from the first batch if needed (no batch is consumed
        and no random numbers are drawn), and note the variables to train."""
        if not self.built:
            batch = iterator.first_batch()
            if batch is None:
                raise ValueError(f"{describe(self)}: the training data is empty.")
            with torch.no_grad():
                self(unpack_x_y_sample_weight(batch)[0], training=False)
        variables = self.trainable_weights
        optimizer = self.optimizer
        if optimizer is not None and not optimizer.built:
            optimizer.build(variables)
        elif optimizer is not None:
            # the optimizer's own list when it holds the same variables: its
            # `apply` then needs no lookup
            known = getattr(optimizer, "_trainable_variables", None) or []
            if len(known) == len(variables) and all(
                a is b for a, b in zip(known, variables)
            ):
                variables = known
        self.__dict__["_fit_variables"] = variables

    def _align_inputs(self, x):
        """A dict of inputs for a model whose inputs are a list: ordered by the
        input names (Keras matches dict keys to input names)."""
        if not isinstance(x, dict):
            return x
        inputs_struct = self.__dict__.get("_inputs_struct")
        if inputs_struct is None or isinstance(inputs_struct, dict):
            return x
        names = [t._keras_history.layer.name for t in tree.flatten(inputs_struct)]
        if set(names) == set(x):
            aligned = [x[name] for name in names]
            return aligned[0] if len(aligned) == 1 else aligned
        return x

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
            raise ValueError(f"evaluate: unrecognized argument(s) {sorted(kwargs)}.")
        self._assert_compiled("evaluate")
        iterator = EpochIterator(
            self._align_inputs(x), y, sample_weight, batch_size, steps
        )
        if not self.built:
            self._prepare(iterator)
            self.__dict__.pop("_fit_variables", None)
        if not isinstance(callbacks, callbacks_module.CallbackList):
            callbacks = callbacks_module.CallbackList(
                callbacks,
                add_progbar=verbose != 0,
                model=self,
                verbose=verbose,
                epochs=1,
                steps=iterator.num_batches,
            )
        logs = self._evaluate_loop(iterator, callbacks)
        if return_dict:
            return logs
        return self._flatten_in_order(logs)

    def _evaluate_loop(self, iterator, callbacks) -> dict:

        self.eval()
        test_function = self.make_test_function()
        self.reset_metrics()
        self.stop_evaluating = False
        callbacks.on_test_begin()
        logs = {}
        for step, batch in iterator:
            callbacks.on_test_batch_begin(step)
            logs = test_function(batch)
            callbacks.on_test_batch_end(step, logs)
            if getattr(self, "stop_evaluating", False):
                break
        logs = pythonify_logs(self._epoch_logs(logs))
        callbacks.on_test_end(logs)
        return logs

    def _flatten_in_order(self, logs):
        names = []
        for metric in self.metrics:
            if isinstance(metric, CompileMetrics):
                names += [m.name for m in metric.metrics]
            else:
                names.append(metric.name)
        results = [logs[name] for name in names if name in logs]
        results += [logs[key] for key in sorted(logs) if key not in names]
        return results[0] if len(results) == 1 else results

    # ---------------------------------------------------------------- predict
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x``, computed in batches without gradients
        and ``training=False``, as NumPy arrays (the output structure kept)."""
        x = self._align_inputs(x)
        fast = verbose == 0 and callbacks is None and steps is None
        fast = fast and type(self).predict_step is Trainer.predict_step
        if fast and _single_batch(x, batch_size or 32):
            with torch.no_grad():
                return _to_numpy(self(x, training=False))
        iterator = EpochIterator(x, batch_size=batch_size, steps_per_epoch=steps)
        if not isinstance(callbacks, callbacks_module.CallbackList):
            callbacks = callbacks_module.CallbackList(
                callbacks,
                add_progbar=verbose != 0,
                model=self,
                verbose=verbose,
                epochs=1,
                steps=iterator.num_batches,
            )
        self.eval()
        predict_function = self.make_predict_function()
        self.stop_predicting = False
        callbacks.on_predict_begin()
        chunks = []
        for step, batch in iterator:
            callbacks.on_predict_batch_begin(step)
            outputs = predict_function(batch)
            chunks.append(outputs)
            callbacks.on_predict_batch_end(step, {"outputs": outputs})
            if getattr(self, "stop_predicting", False):
                break
        callbacks.on_predict_end()
        if not chunks:
            raise ValueError(f"{describe(self)}: predict() got no data.")
        flat = [tree.flatten(c) for c in chunks]
        merged = [_to_numpy(torch.cat(parts)) for parts in zip(*flat)]
        return tree.pack_sequence_as(chunks[0], merged)

    # -------------------------------------------------------------- on batch
    def train_on_batch(
        self, x, y=None, sample_weight=None, class_weight=None, return_dict=False
    ):
        """One training step on one batch; returns the metrics (reset first)."""

        self._assert_compiled("train_on_batch")
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError(
                    "`sample_weight` and `class_weight` cannot both be given; got "
                    f"sample_weight={sample_weight!r}, class_weight={class_weight!r}."
                )
            sample_weight = data_adapters.class_weight_to_sample_weights(
                y, class_weight
            )
        batch = self._single_batch_data(x, y, sample_weight)
        self._prepare_batch(batch)
        self.make_train_function()
        self.reset_metrics()
        self.train()
        try:
            logs = pythonify_logs(self.train_function(batch))
        finally:
            self.eval()
        return logs if return_dict else self._flatten_in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """One evaluation step on one batch; returns the metrics (reset first)."""

        self._assert_compiled("test_on_batch")
        batch = self._single_batch_data(x, y, sample_weight)
        self.reset_metrics()
        self.eval()
        logs = pythonify_logs(self.make_test_function()(batch))
        return logs if return_dict else self._flatten_in_order(logs)

    def predict_on_batch(self, x):
        """The model's outputs for one batch, as NumPy arrays."""
        self.eval()
        x = data_adapters.to_device(
            data_adapters.convert_structure(self._align_inputs(x)), _device()
        )
        return _to_numpy(self.make_predict_function()((x,)))

    def _single_batch_data(self, x, y, sample_weight):
        x, y, sample_weight = (
            data_adapters.to_device(data_adapters.convert_structure(part), _device())
            for part in (self._align_inputs(x), y, sample_weight)
        )
        data_adapters.check_cardinality(x, y, sample_weight)
        return (x, y, sample_weight)

    def _prepare_batch(self, batch):
        if not self.built:
            with torch.no_grad():
                self(batch[0], training=False)
        if self.optimizer is not None and not self.optimizer.built:
            self.optimizer.build(self.trainable_weights)


# ------------------------------------------------------------------ helpers
def _device():
    return config.get_device()


def _batch_size(x) -> int:
    if isinstance(x, torch.Tensor):
        return int(x.shape[0])
    return int(next(t for t in tree.flatten(x) if t is not None).shape[0])


def _single_batch(x, batch_size) -> bool:
    leaves = tree.flatten(x) if isinstance(x, (list, tuple, dict)) else [x]
    if not leaves or not all(isinstance(t, (np.ndarray, torch.Tensor)) for t in leaves):
        return False
    return all(t.ndim and t.shape[0] <= batch_size for t in leaves)


def _to_numpy(structure):
    def convert(t):
        if isinstance(t, torch.Tensor):
            t = t.detach()
            if t.dtype in (torch.bfloat16, torch.float16):
                t = t.float()
            return t.cpu().numpy()
        return t

    if isinstance(structure, torch.Tensor):
        return convert(structure)
    return tree.map_structure(convert, structure)


def _should_eval(epoch, validation_freq) -> bool:
    epoch += 1
    if isinstance(validation_freq, int):
        return epoch % validation_freq == 0
    return epoch in validation_freq


def _check_validation_freq(validation_freq) -> None:
    if isinstance(validation_freq, bool) or not (
        (isinstance(validation_freq, int) and validation_freq >= 1)
        or isinstance(validation_freq, (list, tuple))
    ):
        raise ValueError(
            "`validation_freq` must be an integer >= 1 or a list of epochs; got "
            f"validation_freq={validation_freq!r}."
        )


def _check_names(spec, getter, special) -> None:
    """Resolve every name in ``spec`` now, so an unknown one fails in ``compile``."""
    for item in tree.flatten(spec) if spec is not None else []:
        if isinstance(item, str) and item.lower() not in special:
            getter(item)


def _deserialize_nested(spec, deserialize):
    if spec is None:
        return None
    if isinstance(spec, dict) and "class_name" in spec:
        return deserialize(spec)
    if isinstance(spec, dict):
        return {k: _deserialize_nested(v, deserialize) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [_deserialize_nested(v, deserialize) for v in spec]
    return spec
