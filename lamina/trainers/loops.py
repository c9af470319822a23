"""The loops of ``fit``, ``evaluate`` and ``predict``: epochs of batches with the
callbacks around each.

They take the model (a ``Trainer``) and call its step functions; the per-step
Python work stays a few calls, and metric values stay tensors until a callback or
the epoch's end reads them.
"""

from __future__ import annotations

import warnings

import torch

from lamina import config
from lamina.callbacks import CallbackList, History
from lamina.trainers.data_adapters import to_numpy, unpack_x_y_sample_weight
from lamina.trainers.strategy import get_strategy
from lamina.utils import tree
from lamina.utils.python_utils import pythonify_logs
from lamina.utils.validation import arg_error, describe


def prepare_training(model, iterator) -> None:
    """Build the model from the first batch if needed (no batch is consumed
    and no random numbers are drawn), and note the variables to train."""
    if not model.built:
        batch = iterator.first_batch()
        if batch is None:
            raise ValueError(
                f"{describe(iterator.owner)}: `x` must yield at least one batch; "
                "got no batches (empty data)."
            )
        with torch.no_grad():
            model(unpack_x_y_sample_weight(batch)[0], training=False)
    get_strategy().prepare(model)
    variables = model.trainable_weights
    optimizer = model.optimizer
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
    model.__dict__["_fit_variables"] = variables


def callback_list(model, callbacks, verbose, epochs, steps, add_history=False):
    """``callbacks`` as a ``CallbackList`` (with a progress bar unless
    ``verbose=0``, and the ``History`` for ``fit``)."""
    if isinstance(callbacks, CallbackList):
        return callbacks
    callbacks, verbose = get_strategy().callbacks(callbacks, verbose)
    return CallbackList(
        callbacks,
        add_history=add_history,
        add_progbar=verbose != 0,
        model=model,
        verbose=verbose,
        epochs=epochs,
        steps=steps,
    )


def run_fit(
    model, iterator, val_iterator, callbacks, initial_epoch, epochs, validation_freq
):
    """``fit`` once its data and callbacks are ready: the epochs from
    ``initial_epoch`` (or where ``BackupAndRestore`` resumes) to ``epochs``, then
    the optimizer's final variable values; returns the ``History``."""
    model.stop_training = False
    model.make_train_function()
    model._initial_epoch, model._initial_step = None, 0
    callbacks.on_train_begin()
    start = model._initial_epoch or initial_epoch
    epoch_logs = fit_epochs(
        model, iterator, val_iterator, callbacks, range(start, epochs), validation_freq
    )
    if model.optimizer is not None and epochs > start:
        model.optimizer.finalize_variable_values(model.trainable_weights)
    callbacks.on_train_end(logs=epoch_logs)
    history = next(
        (c for c in callbacks.callbacks if isinstance(c, History)), model.history
    )
    model.history = history
    return history


def fit_epochs(model, iterator, val_iterator, callbacks, epochs, validation_freq):
    """Train for the epochs of ``epochs`` (a range), validating after those that
    ``validation_freq`` selects; returns the last epoch's logs. The model is left
    in inference mode, even when a step raises."""
    epoch_logs = {}
    try:
        for epoch in epochs:
            epoch_logs = fit_epoch(model, epoch, iterator, callbacks)
            if val_iterator is not None and should_validate(epoch, validation_freq):
                val_logs = evaluate_epoch(model, val_iterator, callbacks)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            if model.stop_training:
                break
    finally:
        model.eval()
        model.__dict__.pop("_fit_variables", None)
    return epoch_logs


def fit_epoch(model, epoch, iterator, callbacks) -> dict:
    """One training epoch. Batch callbacks run every ``steps_per_execution``
    steps; the first ``model._initial_step`` batches are skipped (a resumed
    ``BackupAndRestore`` run)."""
    model.reset_metrics()
    callbacks.on_epoch_begin(epoch)
    model.train()
    step_function = model.train_function
    every = model.steps_per_execution
    skip, model._initial_step = model._initial_step, 0
    logs = {}
    last = iterator.num_batches
    for step, batch in get_strategy().batches(iterator):
        if skip:
            skip -= 1
            if not skip and model._after_skip is not None:
                model._after_skip()
                model._after_skip = None
            continue
        begin = step % every == 0
        if begin:
            callbacks.on_train_batch_begin(step)
        logs = step_function(batch)
        if (step + 1) % every == 0 or step + 1 == last:
            callbacks.on_train_batch_end(step, logs)
        if model.stop_training:
            break
    model.eval()
    return epoch_logs(model, logs)


def epoch_logs(model, logs) -> dict:
    """The metric values at the end of an epoch, or the last step's logs when a
    custom step reports values of its own."""
    get_strategy().reduce_logs(model)
    results = model.get_metrics_result()
    if isinstance(logs, dict) and logs and set(logs) != set(results):
        return dict(logs)  # a custom train_step reporting its own values
    return results


def evaluate_epoch(model, iterator, callbacks) -> dict:
    """One pass of ``test_step`` over ``iterator``; returns the logs as floats."""
    model.eval()
    test_function = model.make_test_function()
    model.reset_metrics()
    model.stop_evaluating = False
    callbacks.on_test_begin()
    logs = {}
    for step, batch in get_strategy().batches(iterator):
        callbacks.on_test_batch_begin(step)
        logs = test_function(batch)
        callbacks.on_test_batch_end(step, logs)
        if getattr(model, "stop_evaluating", False):
            break
    logs = pythonify_logs(epoch_logs(model, logs))
    callbacks.on_test_end(logs)
    return logs


def predict_batches(model, iterator, callbacks):
    """The outputs of ``predict_step`` on every batch, concatenated into NumPy
    arrays (the output structure kept)."""
    model.eval()
    predict_function = model.make_predict_function()
    model.stop_predicting = False
    callbacks.on_predict_begin()
    chunks = []
    strategy = get_strategy()
    for step, batch in strategy.batches(iterator):
        callbacks.on_predict_batch_begin(step)
        outputs = strategy.gather(predict_function(batch))
        chunks.append(outputs)
        callbacks.on_predict_batch_end(step, {"outputs": outputs})
        if getattr(model, "stop_predicting", False):
            break
    callbacks.on_predict_end()
    if not chunks:
        raise ValueError(
            f"{describe(iterator.owner)}: `x` must yield at least one batch; got no "
            "batches (empty data)."
        )
    flat = [tree.flatten(c) for c in chunks]
    merged = [to_numpy(torch.cat(parts)) for parts in zip(*flat)]
    return tree.pack_sequence_as(chunks[0], merged)


def should_validate(epoch, validation_freq) -> bool:
    """Whether to validate after ``epoch`` (0-based): every ``validation_freq``
    epochs, or after the (1-based) epochs it lists."""
    epoch += 1
    if isinstance(validation_freq, int):
        return epoch % validation_freq == 0
    return epoch in validation_freq


def check_validation_freq(validation_freq, owner="check_validation_freq") -> None:
    if isinstance(validation_freq, bool) or not (
        (isinstance(validation_freq, int) and validation_freq >= 1)
        or isinstance(validation_freq, (list, tuple))
    ):
        rule = "an integer >= 1 or a list of epochs"
        raise arg_error(owner, "validation_freq", rule, validation_freq)


def cap_epochs(epochs, owner="cap_epochs"):
    """``epochs``, lowered (with a warning) to ``keras.config.max_epochs()``."""
    cap = config.max_epochs()
    if cap and isinstance(epochs, int) and cap < epochs:
        warnings.warn(
            f"{describe(owner)}: limiting epochs to {cap} "
            "(keras.config.set_max_epochs).",
            stacklevel=3,
        )
        return cap
    return epochs
