"""Keras 1/2 and tf.keras ``.h5`` files: whole models and weights.

Layout: the root's ``model_config`` (JSON) and ``training_config`` attributes; a
``model_weights`` group (the root itself in a weights-only file) listing
``layer_names``; one group per layer listing ``weight_names``, each a dataset
path. A layer's weights are stored as its trainable then non-trainable weights.
Weights are matched to layers by order (layers that have weights, in
``model.layers`` order) or by name. CuDNNLSTM/CuDNNGRU weights are converted to
LSTM/GRU's layout, and Bidirectional/TimeDistributed/nested models are converted
part by part.
"""

from __future__ import annotations

import os
import warnings

import h5py
import numpy as np

from lamina import optimizers
from lamina.saving import file_io, model_config, serialization, weights_h5
from lamina.utils.validation import describe
from lamina.version import __version__

_HEADER_LIMIT = 64512  # HDF5 attributes above this size are split into chunks


# -------------------------------------------------------------------- reading
def _attr_text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _attr_text(value.item())
    return value


def _name_list(group, name: str) -> list[str]:
    if name in group.attrs:
        return [_attr_text(n) for n in group.attrs[name]]
    names, chunk = [], 0
    while f"{name}{chunk}" in group.attrs:
        names.extend(_attr_text(n) for n in group.attrs[f"{name}{chunk}"])
        chunk += 1
    return names


def _read_weights(layer_group, source) -> list[np.ndarray]:
    values = []
    for weight_name in _name_list(layer_group, "weight_names"):
        parent, _, leaf = weight_name.rpartition("/")
        group = (
            file_io.get_group(layer_group, parent, source) if parent else layer_group
        )
        if group is None or leaf not in group:
            raise file_io.file_error(
                source,
                f"weight '{weight_name}' listed by layer group "
                f"'{layer_group.name}' is missing; the file is damaged.",
            )
        values.append(file_io.read_dataset(group, leaf, source))
    return values


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a Keras 1/2/tf.keras (or lamina/Keras 3 legacy) ``.h5`` file."""
    source = f"'{file_io.display_name(filepath)}'"
    with file_io.open_h5(filepath) as h5file, file_io.h5_damage(filepath):
        raw = h5file.attrs.get("model_config")
        if raw is None:
            raise file_io.file_error(
                filepath,
                "it holds weights only (no model config). Build the model in code "
                "and call `model.load_weights(...)` on it.",
            )
        config = model_config.loads(_attr_text(raw), f"{source} (model_config)")
        version = str(_attr_text(h5file.attrs.get("keras_version", "1")))
        model = model_config.model_from_config(
            config,
            custom_objects,
            safe_mode,
            source=source,
            keras2=not version.startswith("3"),
        )
        group = file_io.get_group(h5file, "model_weights", filepath)
        if group is None:
            raise file_io.file_error(filepath, "it has no 'model_weights' group.")
        load_weights_from_group(model, group, filepath, version)
        training = h5file.attrs.get("training_config")
        if compile and training is not None:
            with serialization.config_errors(f"{source} (its training_config)"):
                _compile(model, _attr_text(training), source, custom_objects)
            if "optimizer_weights" in h5file:
                warnings.warn(
                    f"{source}: the optimizer state stored in Keras 2's layout is not "
                    "restored; training continues with a fresh optimizer state.",
                    stacklevel=3,
                )
    return model


def _compile(model, training_json, source, custom_objects) -> None:
    if not callable(getattr(model, "compile", None)):
        return
    training = model_config.loads(training_json, f"{source} (training_config)")
    optimizer = training.get("optimizer_config")
    try:
        with serialization.custom_object_scope(custom_objects or {}):
            model.compile(
                optimizer=_optimizer_from_config(optimizer),
                loss=training.get("loss"),
                metrics=_metrics(training.get("metrics")),
                loss_weights=training.get("loss_weights"),
                weighted_metrics=_metrics(training.get("weighted_metrics")),
            )
    except (ValueError, TypeError) as e:
        warnings.warn(
            f"{source}: the model was loaded but not compiled ({e}); compile it "
            "yourself before training.",
            stacklevel=4,
        )


def _metrics(metrics):
    """tf.keras writes ``[[{"class_name": "MeanMetricWrapper", ...}]]``; compile
    takes names."""
    if metrics is None:
        return None
    names = []
    for item in metrics:
        if isinstance(item, list):
            names.extend(_metrics(item))
        elif isinstance(item, dict) and item.get("class_name") == "MeanMetricWrapper":
            names.append(item.get("config", {}).get("name"))
        else:
            names.append(item)
    return names


def _optimizer_from_config(config):
    if config is None:
        return "rmsprop"
    config = {**config, "class_name": config["class_name"].split(">")[-1]}
    inner = dict(config.get("config", {}))
    if "lr" in inner:  # Keras 2 spelling
        inner["learning_rate"] = inner.pop("lr")
    for key in ("decay", "jit_compile", "is_legacy_optimizer"):
        inner.pop(key, None)
    return optimizers.deserialize({**config, "config": inner})


def load_weights_from_file(model, h5file, filepath, skip_mismatch, by_name) -> None:
    group = file_io.get_group(h5file, "model_weights", filepath) or h5file
    if "layer_names" not in group.attrs and not any(
        k.startswith("layer_names") for k in group.attrs
    ):
        raise file_io.file_error(
            filepath, "it is an HDF5 file but not a Keras weights file."
        )
    version = str(_attr_text(h5file.attrs.get("keras_version", "")) or "")
    version = version or str(_attr_text(group.attrs.get("keras_version", "1")))
    load_weights_from_group(model, group, filepath, version, skip_mismatch, by_name)


def _layer_group(group, name, source):
    layer_group = file_io.get_group(group, name, source)
    if layer_group is None:
        raise file_io.file_error(
            source,
            f"layer group '{name}' listed in `layer_names` is missing; the file is "
            "damaged.",
        )
    return layer_group


def load_weights_from_group(
    model, group, filepath, version="2", skip_mismatch=False, by_name=False
) -> None:
    """Set ``model``'s weights from a Keras 2 ``model_weights`` group."""
    source = file_io.display_name(filepath)
    saved = [
        (name, _read_weights(_layer_group(group, name, source), source))
        for name in _name_list(group, "layer_names")
    ]
    problems: list[str] = []
    if by_name:
        index = {layer.name: layer for layer in model.layers}
        pairs = [(index[n], n, v) for n, v in saved if n in index and v]
    else:
        layers = [layer for layer in model.layers if _legacy_weights(layer)]
        saved = [(n, v) for n, v in saved if v]
        if len(layers) != len(saved):
            raise ValueError(
                f"The weights in '{source}' do not fit {describe(model)}: the model "
                f"has {len(layers)} layers with weights "
                f"{[layer.name for layer in layers]}, the file {len(saved)} "
                f"{[n for n, _ in saved]}. Load by name with `by_name=True` if the "
                "layer names match."
            )
        pairs = [(layer, n, v) for layer, (n, v) in zip(layers, saved)]
    for layer, name, values in pairs:
        problem = _set_layer(layer, name, values, version)
        if problem:
            problems.append(problem)
    weights_h5._report(problems, model, filepath, skip_mismatch)


def _set_layer(layer, saved_name, values, version) -> str | None:
    variables = _legacy_weights(layer)
    where = f"{describe(layer)} (file layer '{saved_name}')"
    try:
        values = convert_weights(layer, list(values), version)
    except ValueError as e:
        return f"{where}: {e}"
    if len(values) != len(variables):
        return (
            f"{where} has {len(variables)} weight(s) "
            f"{[tuple(v.shape) for v in variables]} but the file holds "
            f"{len(values)} {[tuple(v.shape) for v in values]}."
        )
    for i, (variable, value) in enumerate(zip(variables, values)):
        if tuple(variable.shape) != tuple(value.shape):
            hint = weights_h5.layout_hint(tuple(variable.shape), tuple(value.shape))
            return (
                f"{where}: weight #{i} '{variable.name}' has shape "
                f"{tuple(variable.shape)} in the model but {tuple(value.shape)} in "
                f"the file.{hint}"
            )
    weights_h5.assign(variables, values)
    return None


def _legacy_weights(layer):
    return layer.trainable_weights + layer.non_trainable_weights


# ---------------------------------------------------------------- conversions
def convert_weights(layer, values, version="2"):
    """Saved values -> ``layer``'s layout: nested wrappers part by part, cuDNN RNN
    weights to LSTM/GRU."""
    kind = type(layer).__name__
    if kind == "Bidirectional":
        half = len(values) // 2
        return convert_weights(
            layer.forward_layer, values[:half], version
        ) + convert_weights(layer.backward_layer, values[half:], version)
    if kind == "TimeDistributed":
        return convert_weights(layer.layer, values, version)
    if hasattr(layer, "layers") and kind in ("Sequential", "Functional", "Model"):
        return _convert_nested_model(layer, values, version)
    if kind in ("LSTM", "GRU") and len(values) == 3:
        return _convert_cudnn(layer, kind, values)
    return values


def _convert_nested_model(model, values, version):
    n_trainable = len(model.trainable_weights)
    trainable, frozen = values[:n_trainable], values[n_trainable:]
    out_trainable, out_frozen = [], []
    for sub in model.layers:
        t, f = len(sub.trainable_weights), len(sub.non_trainable_weights)
        if not (t or f):
            continue
        converted = convert_weights(sub, trainable[:t] + frozen[:f], version)
        out_trainable += converted[:t]
        out_frozen += converted[t:]
        trainable, frozen = trainable[t:], frozen[f:]
    return out_trainable + out_frozen


def _convert_cudnn(layer, kind, values):
    kernel, recurrent, bias = values
    units = recurrent.shape[0]
    gates = 4 if kind == "LSTM" else 3
    if bias.shape != (2 * gates * units,):
        return values  # already in LSTM/GRU layout
    if kind == "GRU" and not getattr(layer, "reset_after", True):
        raise ValueError(
            f"{describe(layer)}: CuDNNGRU weights need GRU(reset_after=True); "
            "this GRU has reset_after=False."
        )
    # cuDNN stores each gate's input kernel in Fortran order and each recurrent
    # kernel transposed; LSTM sums the input and recurrent biases, GRU keeps both.
    kernel = np.hstack(
        [k.T.reshape(k.shape, order="F") for k in np.hsplit(kernel, gates)]
    )
    recurrent = np.hstack([k.T for k in np.hsplit(recurrent, gates)])
    if kind == "LSTM":
        bias = bias[: gates * units] + bias[gates * units :]
    else:
        bias = bias.reshape(2, gates * units)
    return [kernel, recurrent, bias]


# -------------------------------------------------------------------- writing
def _write_names(group, name: str, names: list[str]) -> None:
    data = np.array([n.encode("utf8") for n in names])
    chunks = 1
    while data.nbytes / chunks > _HEADER_LIMIT:
        chunks += 1
    if chunks == 1:
        group.attrs[name] = data
    else:
        for i, part in enumerate(np.array_split(data, chunks)):
            group.attrs[f"{name}{i}"] = part


def _write_weights_group(group, model) -> None:
    _write_names(group, "layer_names", [layer.name for layer in model.layers])
    group.attrs["backend"] = b"torch"
    group.attrs["keras_version"] = b"3"
    group.attrs["lamina_version"] = __version__.encode("utf8")
    for layer in sorted(model.layers, key=lambda layer: layer.name):
        layer_group = group.create_group(layer.name)
        variables = _legacy_weights(layer)
        names = _unique_paths(variables)
        _write_names(layer_group, "weight_names", names)
        for name, variable in zip(names, variables):
            layer_group.create_dataset(name, data=weights_h5._to_numpy(variable))


def _unique_paths(variables) -> list[str]:
    seen: dict[str, int] = {}
    paths = []
    for variable in variables:
        path = str(getattr(variable, "path", variable.name))
        if path in seen:
            seen[path] += 1
            path = f"{path}_{seen[path]}"
        else:
            seen[path] = 0
        paths.append(path)
    return paths


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Keras 2's weights layout, for ``model.save_weights("w.h5")``."""
    weights_h5._check_built(model, "save_weights")
    _check_overwrite(filepath, overwrite, "save_weights")
    with file_io.atomic_write(filepath) as tmp, h5py.File(tmp, "w") as h5file:
        _write_weights_group(h5file, model)


def save_model(model, filepath, overwrite=True, include_optimizer=True) -> None:
    """Keras 2's whole-model layout (``model.save("m.h5")``), with Keras 3 configs
    (as Keras 3 writes them)."""
    weights_h5._check_built(model, "save")
    _check_overwrite(filepath, overwrite, "save_model")
    config = model_config.model_to_config(model)
    compile_config = config.pop("compile_config", None)
    with file_io.atomic_write(filepath) as tmp, h5py.File(tmp, "w") as h5file:
        h5file.attrs["keras_version"] = b"3"
        h5file.attrs["backend"] = b"torch"
        h5file.attrs["model_config"] = model_config.dumps(config).encode("utf8")
        if compile_config:
            h5file.attrs["training_config"] = model_config.dumps(
                _training_config(compile_config)
            ).encode("utf8")
        _write_weights_group(h5file.create_group("model_weights"), model)
        optimizer = getattr(model, "optimizer", None)
        if include_optimizer and optimizer is not None and optimizer.variables:
            group = h5file.create_group("optimizer_weights")
            names = _unique_paths(optimizer.variables)
            _write_names(group, "weight_names", names)
            for name, variable in zip(names, optimizer.variables):
                group.create_dataset(name, data=weights_h5._to_numpy(variable))


def _training_config(compile_config):
    return {
        "optimizer_config": compile_config.get("optimizer"),
        "loss": compile_config.get("loss"),
        "metrics": compile_config.get("metrics"),
        "weighted_metrics": compile_config.get("weighted_metrics"),
        "loss_weights": compile_config.get("loss_weights"),
    }


def _check_overwrite(filepath, overwrite, owner: str) -> None:
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(
            f"{owner}: '{os.fspath(filepath)}' exists and overwrite=False."
        )
