"""The points where ``fit``/``evaluate``/``predict`` hand over to a distribution
strategy, and the default one-process strategy whose hooks change nothing.

The loops call the current strategy (``get_strategy()``) at a few fixed points:

- ``prepare(model)``: once the model is built, before the optimizer's slots are
  made (wrap the model for ``DistributedDataParallel``, shard weights);
- ``data(x)``: the ``x`` given to ``fit``/``evaluate``/``predict`` (a
  ``DataLoader`` gets a ``DistributedSampler``);
- ``batches(iterator)``: the ``(step, batch)`` pairs of an epoch (this process's
  share of each global batch);
- ``forward_module(model)`` and ``step_context()``: what a step's forward pass
  calls, and the context the whole step (forward, gradient, update) runs in;
- ``reduce_logs(model)``: before the epoch's metric values are read (sum the metric
  states over processes), and ``gather(outputs)`` for ``predict``;
- ``callbacks(callbacks, verbose)``: which callbacks this process runs (files are
  written by one process only).

``lamina.distribution.set_distribution`` installs its strategies here; the
trainer never imports them.
"""

from __future__ import annotations

import contextlib


class Strategy:
    """One process, one device: every hook hands its argument back unchanged."""

    distributed = False  # whether several processes share the work
    is_chief = True  # whether this process writes files and prints progress

    def prepare(self, model) -> None:
        """Called once the model is built, before the optimizer is built."""

    def data(self, x):
        return x

    def batches(self, iterator):
        return iterator

    def forward_module(self, model):
        return model

    def step_context(self):
        return contextlib.nullcontext()

    def reduce_logs(self, model) -> None:
        """Called before the metric values of an epoch are read."""

    def gather(self, outputs):
        return outputs

    def callbacks(self, callbacks, verbose):
        return callbacks, verbose


_DEFAULT = Strategy()
_current = _DEFAULT


def get_strategy() -> Strategy:
    """The strategy the trainer calls (the one-process default unless a
    distribution is set)."""
    return _current


def set_strategy(strategy: Strategy | None) -> None:
    """Install ``strategy`` (None: back to one process)."""
    global _current
    _current = _DEFAULT if strategy is None else strategy
