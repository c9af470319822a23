"""What ``compile(loss=..., metrics=...)`` becomes: one loss and a list of metrics
per model output.

Outputs are matched to ``loss``/``loss_weights``/``metrics`` entries as in Keras:
one entry for every output, a list with one entry per output, or a dict keyed by
output name. ``"accuracy"``/``"acc"`` and ``"crossentropy"``/``"ce"`` become the
binary, sparse categorical or categorical variant from the shapes of the first
batch. With several outputs, each output's loss is also tracked as
``{output}_loss`` and its metrics are logged as ``{output}_{metric}``.
"""

from __future__ import annotations

import torch

from lamina import losses as losses_module
from lamina import metrics as metrics_module
from lamina.utils import tree
from lamina.utils.validation import arg_error, describe


def _is_binary_or_sparse(y_true, y_pred):
    true_shape, pred_shape = tuple(y_true.shape), tuple(y_pred.shape)
    is_binary = pred_shape[-1:] == (1,)
    is_sparse = len(true_shape) < len(pred_shape) or (
        true_shape[-1:] == (1,) and pred_shape[-1] > 1
    )
    return is_binary, is_sparse


def _object_name(obj) -> str:
    return getattr(obj, "name", None) or getattr(obj, "__name__", type(obj).__name__)


def get_loss(identifier, y_true, y_pred) -> losses_module.Loss | None:
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        is_binary, is_sparse = _is_binary_or_sparse(y_true, y_pred)
        if is_binary:
            fn = losses_module.binary_crossentropy
        elif is_sparse:
            fn = losses_module.sparse_categorical_crossentropy
        else:
            fn = losses_module.categorical_crossentropy
    else:
        fn = losses_module.get(identifier)
    if isinstance(fn, losses_module.Loss):
        return fn
    name = identifier if isinstance(identifier, str) else _object_name(fn)
    return losses_module.LossFunctionWrapper(fn, name=name)


def get_metric(
    identifier, y_true, y_pred, owner="get_metric", arg="metrics"
) -> metrics_module.Metric:
    if identifier is None:
        rule = "metric names, functions or Metric instances"
        raise ValueError(f"{describe(owner)}: `{arg}` must hold {rule}; got None.")
    if str(identifier).lower() in ("accuracy", "acc"):
        is_binary, is_sparse = _is_binary_or_sparse(y_true, y_pred)
        if is_binary:
            metric = metrics_module.BinaryAccuracy(name=str(identifier))
        elif is_sparse:
            metric = metrics_module.SparseCategoricalAccuracy(name=str(identifier))
        else:
            metric = metrics_module.CategoricalAccuracy(name=str(identifier))
    else:
        metric = metrics_module.get(identifier)
    name = identifier if isinstance(identifier, str) else _object_name(metric)
    if not isinstance(metric, metrics_module.Metric):
        metric = metrics_module.MeanMetricWrapper(metric, name=name)
    metric.name = name
    return metric


def flat_output_names(model, y_pred) -> list:
    """The names of the outputs of ``y_pred`` in the order losses see them."""
    n = len(tree.flatten(y_pred))
    if isinstance(y_pred, dict):
        return sorted(y_pred)
    names = getattr(model, "output_names", None) or _graph_output_names(model)
    if names and len(names) == n:
        return list(names)
    return [None] * n


def _graph_output_names(model):
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        return None
    if not outputs:
        return None
    names = []
    for tensor in outputs:
        history = getattr(tensor, "_keras_history", None)
        names.append(history.layer.name if history is not None else None)
    return names


def _per_output(spec, names, what, leaf_types, owner):
    """``spec`` spread over the outputs: a single entry for all, a list with one
    entry per output, or a dict keyed by output name."""
    n = len(names)
    if (
        spec is None
        or isinstance(spec, leaf_types)
        or callable(spec)
        and not isinstance(spec, (list, tuple, dict))
    ):
        return [spec] * n
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - set(names))
        if unknown:
            raise ValueError(
                f"{describe(owner)}: `{what}` must be keyed by model output names "
                f"{names}; got {what}={spec!r}, whose keys {unknown} are not outputs."
            )
        return [spec.get(name) for name in names]
    if isinstance(spec, (list, tuple)):
        if len(spec) == n:
            return list(spec)
        raise ValueError(
            f"{describe(owner)}: `{what}` must have one entry per model output "
            f"({n}: {names}); got {len(spec)} entries: {what}={spec!r}."
        )
    return [spec] * n


def align_targets(y, names, what="y", owner="align_targets"):
    """The targets (or sample weights) of each output, in output order."""
    if y is None:
        return [None] * len(names)
    if isinstance(y, dict):
        if all(name in y for name in names):
            return [y[name] for name in names]
        if len(names) == 1 and len(y) == 1:
            return list(y.values())
        raise ValueError(
            f"{describe(owner)}: `{what}` must be keyed by the model outputs "
            f"{names}; got a dict with keys {sorted(y)}."
        )
    flat = tree.flatten(y)
    if len(flat) == len(names):
        return flat
    if len(names) > 1 and len(flat) == 1 and what == "sample_weight":
        return flat * len(names)
    raise ValueError(
        f"{describe(owner)}: `{what}` must hold one array per model output "
        f"({len(names)}: {names}); got {len(flat)} array(s)."
    )


class CompileLoss:
    """The total loss: the weighted sum of each output's loss (``None`` outputs
    have no loss)."""

    def __init__(self, loss, loss_weights=None, model=None):
        self._owner, self._compile_owner = _owners(self, model)
        if loss_weights is not None and not isinstance(
            loss_weights, (int, float, list, tuple, dict)
        ):
            rule = "a float, a list or a dict"
            raise arg_error(self._compile_owner, "loss_weights", rule, loss_weights)
        self._user_loss = loss
        self._user_weights = loss_weights
        self._model = model
        self.built = False
        self.metrics: list[metrics_module.Mean] = []

    def build(self, y_true, y_pred) -> None:
        names = flat_output_names(self._model, y_pred)
        self.output_names = names
        flat_pred = self.flatten_pred(y_pred)
        flat_true = align_targets(y_true, names, "y", self._owner)
        owner = self._compile_owner
        loss_types = (str, losses_module.Loss)
        specs = _per_output(self._user_loss, names, "loss", loss_types, owner)
        weights = _per_output(
            self._user_weights, names, "loss_weights", (int, float), owner
        )
        self.entries = []
        for i, (spec, weight, name) in enumerate(zip(specs, weights, names)):
            loss = get_loss(spec, flat_true[i], flat_pred[i])
            if loss is not None:
                self.entries.append((i, loss, weight, name or loss.name))
        if not self.entries:
            rule = "set for at least one model output"
            raise arg_error(self._compile_owner, "loss", rule, self._user_loss)
        if len(self.entries) > 1:
            self.metrics = [
                metrics_module.Mean(name=f"{e[3]}_loss") for e in self.entries
            ]
        self._single = len(names) == 1 and len(self.entries) == 1
        self.built = True

    def _call_single(self, y_true, y_pred, sample_weight):
        """One output with one loss: no structure to walk."""
        _, loss_fn, weight, name = self.entries[0]
        if isinstance(y_true, (list, tuple)) and len(y_true) == 1:
            y_true = y_true[0]
        if isinstance(sample_weight, (list, tuple)) and len(sample_weight) == 1:
            sample_weight = sample_weight[0]
        if y_true is None:
            raise _no_target_error(self._owner, name)
        try:
            value = loss_fn(y_true, y_pred, sample_weight)
        except (RuntimeError, ValueError) as error:
            raise _shape_error(
                self._owner, name, loss_fn, y_true, y_pred, error
            ) from error
        return value if weight is None else value * weight

    def flatten_pred(self, y_pred):
        if isinstance(y_pred, dict):
            return [y_pred[name] for name in self.output_names]
        return tree.flatten(y_pred)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        if self._single and isinstance(y_pred, torch.Tensor):
            return self._call_single(y_true, y_pred, sample_weight)
        flat_pred = self.flatten_pred(y_pred)
        flat_true = align_targets(y_true, self.output_names, "y", self._owner)
        flat_weight = align_targets(
            sample_weight, self.output_names, "sample_weight", self._owner
        )
        total = None
        for k, (i, loss_fn, weight, name) in enumerate(self.entries):
            target, prediction = flat_true[i], flat_pred[i]
            if target is None:
                raise _no_target_error(self._owner, name)
            try:
                value = loss_fn(target, prediction, flat_weight[i])
            except (RuntimeError, ValueError) as error:
                raise _shape_error(
                    self._owner, name, loss_fn, target, prediction, error
                ) from error
            if self.metrics:
                self.metrics[k].update_state(value.detach(), int(prediction.shape[0]))
            if weight is not None:
                value = value * weight
            total = value if total is None else total + value
        return total


def _owners(compiled, model) -> tuple[str, str]:
    """Who complains about the data (the model) and about the ``compile``
    arguments (its ``compile()``); the class alone without a model."""
    if model is None:
        return (type(compiled).__name__,) * 2
    return describe(model), f"{describe(model)}.compile()"


def _no_target_error(owner, name):
    return ValueError(
        f"{describe(owner)}: `y` must hold targets for output '{name}', which has a "
        "loss; got no targets for it."
    )


def _shape_error(owner, name, loss_fn, target, prediction, error):
    target_shape = tuple(getattr(target, "shape", ()))
    output_shape = tuple(prediction.shape)
    if "sparse_categorical_crossentropy: labels" in str(error):
        return ValueError(f"{describe(owner)}, output '{name}': {error}")
    return ValueError(
        f"{describe(owner)}: the targets `y` of output '{name}' (shape "
        f"{output_shape}) must fit loss '{loss_fn.name}'; got y of shape "
        f"{target_shape}, and the loss failed with: {error}"
    )


class CompileMetrics(metrics_module.Metric):
    """The compiled metrics of every output, reported together as a dict."""

    def __init__(self, metrics, weighted_metrics, model=None):
        owner, compile_owner = _owners(self, model)
        for arg, value in (
            ("metrics", metrics),
            ("weighted_metrics", weighted_metrics),
        ):
            if value and not isinstance(value, (list, tuple, dict)):
                raise ValueError(
                    f"{compile_owner}: `{arg}` must be a list or a dict (wrap a "
                    f"single metric in a list: {arg}=[{value!r}]); got {arg}={value!r}."
                )
        super().__init__(name="compile_metrics")
        self._owner, self._compile_owner = owner, compile_owner
        self._user_metrics = metrics
        self._user_weighted = weighted_metrics
        self._model = model
        self.built = False
        self._per_output: list[list] = []
        self._weighted: list[list] = []

    def _build_set(self, spec, arg, y_true, y_pred, names):
        if not spec:
            return [[] for _ in names]
        owner = self._compile_owner
        if len(names) == 1:  # every metric is for the one output
            entries = [tree.flatten(spec)]
        else:
            entries = _per_output(spec, names, arg, (str,), owner)
        result = []
        for entry, target, prediction in zip(entries, y_true, y_pred):
            entry = [] if entry is None else entry
            entry = entry if isinstance(entry, (list, tuple)) else [entry]
            result.append(
                [get_metric(m, target, prediction, owner, arg) for m in entry]
            )
        return result

    def build(self, y_true, y_pred):
        names = flat_output_names(self._model, y_pred)
        self.output_names = names
        flat_pred = (
            [y_pred[n] for n in names]
            if isinstance(y_pred, dict)
            else tree.flatten(y_pred)
        )
        flat_true = align_targets(y_true, names, "y", self._owner)
        self._flat_pred_names = names
        self._per_output = self._build_set(
            self._user_metrics, "metrics", flat_true, flat_pred, names
        )
        self._weighted = self._build_set(
            self._user_weighted, "weighted_metrics", flat_true, flat_pred, names
        )
        self._prefixes = [
            f"{name}_" if len(names) > 1 and name else "" for name in names
        ]
        self.built = True

    @property
    def metrics(self):
        return [m for group in self._per_output + self._weighted for m in group]

    @property
    def variables(self):
        return [v for m in self.metrics for v in m.variables]

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        names = self.output_names
        flat_pred = (
            [y_pred[n] for n in names]
            if isinstance(y_pred, dict)
            else tree.flatten(y_pred)
        )
        flat_true = align_targets(y_true, names, "y", self._owner)
        flat_weight = align_targets(sample_weight, names, "sample_weight", self._owner)
        for group, target, prediction in zip(self._per_output, flat_true, flat_pred):
            for metric in group:
                metric.update_state(target, prediction)
        for group, target, prediction, weight in zip(
            self._weighted, flat_true, flat_pred, flat_weight
        ):
            for metric in group:
                metric.update_state(target, prediction, weight)

    def reset_state(self):
        for metric in self.metrics:
            metric.reset_state()

    def result(self) -> dict:
        results: dict = {}
        for group, prefix in zip(self._per_output, self._prefixes):
            for metric in group:
                name = prefix + metric.name
                key, i = name, 1
                while key in results:
                    key, i = f"{name}_{i}", i + 1
                results[key] = metric.result()
        for group, prefix in zip(self._weighted, self._prefixes):
            for metric in group:
                key = prefix + metric.name
                if key in results:
                    key = f"{prefix}weighted_{metric.name}"
                results[key] = metric.result()
        return results
