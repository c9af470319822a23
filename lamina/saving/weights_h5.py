"""Keras 3 weights layout (``.weights.h5`` and the ``model.weights.h5`` entry of a
``.keras`` archive).

Keras 3 stores each object's own variables under ``<path>/vars/0``, ``1``, ...,
where ``<path>`` comes from walking the model: a Sequential's or functional
model's ``layers`` first, then attributes in sorted order (private ones last);
layers held in lists are named by their snake-cased class (``dense``,
``dense_1``); an object reached twice is stored once, at its first path. This
module walks lamina models the same way, so files move both ways between lamina
and Keras 3.

A layer or optimizer may define Keras's ``save_own_variables(store)`` and
``load_own_variables(store)`` to take over its own entry.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Mapping

import numpy as np
import torch

from lamina.layers.input_layer import InputLayer
from lamina.layers.layer import Layer
from lamina.saving import file_io, registry
from lamina.utils.naming import to_snake_case
from lamina.utils.validation import describe


# ------------------------------------------------------------------- walking
def _is_saveable(obj) -> bool:
    if isinstance(obj, Layer):
        return True
    return callable(getattr(obj, "save_own_variables", None)) and callable(
        getattr(obj, "load_own_variables", None)
    )


def _holds_saveable(container) -> bool:
    values = container.values() if isinstance(container, dict) else container
    return any(
        _is_saveable(v) or (isinstance(v, (list, tuple, dict)) and _holds_saveable(v))
        for v in values
    )


def _name_key(name: str) -> str:
    return f"~{name}" if name.startswith("_") else name


def _model_class(name: str) -> type:
    """A model class; models sit above saving, so it is found by name."""
    return registry.lookup("layers", name)


def _is_graph_model(obj) -> bool:
    return isinstance(obj, (_model_class("Functional"), _model_class("Sequential")))


def _children(obj) -> list[tuple[str, object]]:
    """(attribute, child) pairs in Keras's walking order."""
    first = [("layers", obj.layers)] if _is_graph_model(obj) else []
    entries: dict[str, object] = {}
    modules = getattr(obj, "_modules", None) or {}
    for key, module in modules.items():
        # A Sequential keeps its InputLayer as an attribute; Keras never stores it.
        if _is_saveable(module) and not isinstance(module, InputLayer):
            entries[key] = module
    for key, value in vars(obj).items():
        if (
            not key.startswith("_")
            and isinstance(value, (list, tuple, dict))
            and _holds_saveable(value)
        ):
            entries[key] = value
    if isinstance(obj, _model_class("Model")):
        if not first:
            entries["layers"] = obj.layers
        optimizer = getattr(obj, "optimizer", None)
        if optimizer is not None and _is_saveable(optimizer):
            entries["optimizer"] = optimizer
    return first + sorted(entries.items(), key=lambda item: _name_key(item[0]))


def walk(root) -> Iterator[tuple[str, object]]:
    """Every saveable under ``root`` (itself included) with its Keras 3 path."""
    visited: set[int] = set()

    def visit(obj, path):
        if id(obj) in visited:
            return
        visited.add(id(obj))
        yield path, obj
        for attr, child in _children(obj):
            child_path = f"{path}/{attr}" if path else attr
            if _is_saveable(child):
                yield from visit(child, child_path)
            elif isinstance(child, (list, tuple, dict)):
                yield from visit_container(child, child_path)

    def visit_container(container, path):
        used: dict[str, int] = {}
        values = container.values() if isinstance(container, dict) else container
        for item in values:
            if _is_saveable(item):
                # Keras names list entries by the Python class, not the name
                # the class is exported under (GroupedQueryAttention).
                base = to_snake_case(type(item).__name__)
                yield from visit(item, f"{path}/{_unique(base, used)}")
            elif isinstance(item, (list, tuple, dict)):
                yield from visit_container(item, f"{path}/{_unique('container', used)}")

    yield from visit(root, "")


def _unique(name: str, used: dict[str, int]) -> str:
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


# --------------------------------------------------------------------- stores
class VarsWriter:
    """The ``store`` given to ``save_own_variables``: ``store["0"] = value``."""

    def __init__(self, h5file, path: str, name: str | None):
        self._group = h5file.create_group(f"{path}/vars" if path else "vars")
        if name:
            self._group.attrs["name"] = name

    def __setitem__(self, key: str, value) -> None:
        array = _to_numpy(value)
        if array.dtype.name == "bfloat16":
            dataset = self._group.create_dataset(key, data=array)
            dataset.attrs["dtype"] = "bfloat16"
        else:
            self._group[key] = array


class VarsReader(Mapping):
    """The ``store`` given to ``load_own_variables``: ``store["0"]``, ``len(store)``."""

    def __init__(self, group, path: str, source):
        self._group, self.path, self._source = group, path, source

    def __getitem__(self, key: str) -> np.ndarray:
        if self._group is None or key not in self._group:
            raise KeyError(f"'{self.path}/vars/{key}' is not in the file")
        return file_io.read_dataset(self._group, key, self._source)

    def __iter__(self):
        if self._group is None:
            return iter(())
        return iter(sorted(self._group.keys(), key=_numeric_first))

    def __len__(self) -> int:
        return 0 if self._group is None else len(self._group)


def _numeric_first(key: str):
    return (0, int(key), "") if key.isdigit() else (1, 0, key)


def _to_numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.dtype == torch.bfloat16:
            import ml_dtypes

            return value.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
        return value.numpy()
    return np.asarray(value)


def _reader_for(h5file, path: str, source) -> VarsReader:
    group = file_io.get_group(h5file, f"{path}/vars" if path else "vars", source)
    if group is None and path and "_layer_checkpoint_dependencies" in h5file:
        # Keras 2.13-2.15 (tf-keras) named the layers container this way.
        old = path.replace("layers", "_layer_checkpoint_dependencies")
        group = file_io.get_group(h5file, f"{old}/vars", source)
    return VarsReader(group, path, source)


# ------------------------------------------------------------ save / restore
def write_model_state(model, h5file) -> None:
    """Write every saveable's own variables into an open, writable ``h5file``."""
    for path, obj in walk(model):
        name = getattr(obj, "name", None)
        store = VarsWriter(h5file, path, name if isinstance(name, str) else None)
        custom = getattr(obj, "save_own_variables", None)
        if callable(custom):
            custom(store)
        else:
            for i, variable in enumerate(obj._own_weights()):
                store[str(i)] = variable


def read_model_state(model, h5file, source, skip_mismatch: bool = False) -> None:
    """Load every saveable's variables from ``h5file``.

    Problems are gathered over the whole model. With ``skip_mismatch`` each
    mismatching object keeps its values and a warning names it; otherwise one
    ``ValueError`` lists every problem.
    """
    problems: list[str] = []
    for path, obj in walk(model):
        store = _reader_for(h5file, path, source)
        custom = getattr(obj, "load_own_variables", None)
        try:
            if callable(custom):
                custom(store)
            else:
                _load_layer(obj, store, path)
        except (ValueError, KeyError) as e:
            if isinstance(e, file_io.FileFormatError):
                raise
            problems.append(str(e).strip("'\""))
    _report(problems, model, source, skip_mismatch)


def _load_layer(layer: Layer, store: VarsReader, path: str) -> None:
    own = layer._own_weights()
    where = f"{describe(layer)} (at '{path or '/'}')"
    if len(store) != len(own):
        expected = ", ".join(f"{v.name} {tuple(v.shape)}" for v in own) or "none"
        found = ", ".join(f"{k} {tuple(np.shape(store[k]))}" for k in store) or "none"
        built = "" if layer.built else " (the layer is not built yet)"
        raise ValueError(
            f"{where} has {len(own)} weight(s) [{expected}]{built} but the file "
            f"holds {len(store)} [{found}]."
        )
    values = []
    for i, variable in enumerate(own):
        value = store[str(i)]
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(
                f"{where}: weight #{i} '{variable.name}' has shape "
                f"{tuple(variable.shape)} in the model but {tuple(value.shape)} "
                f"in the file.{layout_hint(tuple(variable.shape), tuple(value.shape))}"
            )
        values.append(value)
    assign(own, values)


def assign(variables, values) -> None:
    with torch.no_grad():
        for variable, value in zip(variables, values):
            tensor = torch.as_tensor(np.asarray(value))
            variable.copy_(tensor.to(device=variable.device, dtype=variable.dtype))


def _report(problems, model, source, skip_mismatch) -> None:
    if not problems:
        return
    if skip_mismatch:
        for problem in problems:
            warnings.warn(f"Skipped loading {problem}", stacklevel=3)
        return
    listing = "\n".join(f"  - {p}" for p in problems)
    raise ValueError(
        f"The weights in '{file_io.display_name(source)}' do not fit "
        f"{describe(model)} ({len(problems)} problem(s)):\n{listing}\n"
        "Pass `skip_mismatch=True` to load the weights that fit and skip the rest."
    )


def layout_hint(expected: tuple, got: tuple) -> str:
    """A sentence explaining a shape mismatch that is only a different axis order."""
    if expected == got or sorted(expected) != sorted(got):
        return ""
    rank = len(expected)
    if rank == 2 and got == expected[::-1]:
        return (
            " The file's matrix is transposed: PyTorch's nn.Linear stores (out, in), "
            "Keras stores (in, out); transpose it with `w.T`."
        )
    if rank >= 3:
        torch_layout = (expected[-1], expected[-2], *expected[:-2])
        if got == torch_layout:
            perm = (*range(2, rank), 1, 0)
            return (
                f" It looks like a PyTorch-layout kernel (out, in, *window) = {got}; "
                f"Keras stores (*window, in, out) = {expected}: convert it with "
                f"`np.transpose(w, {perm})`."
            )
    return (
        " The sizes agree in another order, so this is probably a layout difference "
        "(channels_first vs channels_last, or a transposed kernel)."
    )


# ------------------------------------------------------------------ public API
def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Write ``model``'s weights to ``filepath`` (``.weights.h5``) in Keras 3's
    layout, atomically.

    Raises:
        ValueError: if the name does not end in ``.weights.h5`` or the model is
            not built.
    """
    filepath = os.fspath(filepath)
    if not filepath.endswith(".weights.h5"):
        raise ValueError(
            "save_weights: the file name must end in `.weights.h5` (Keras 3 layout) "
            f"or `.h5` (Keras 2 layout); got filepath={filepath!r}."
        )
    _check_built(model, "save_weights")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"save_weights: '{filepath}' exists and overwrite=False.")
    import h5py

    with file_io.atomic_write(filepath) as tmp:
        with h5py.File(tmp, "w") as h5file:
            write_model_state(model, h5file)


def load_weights(model, filepath, skip_mismatch: bool = False) -> None:
    """Load a Keras 3 ``.weights.h5`` file into ``model``."""
    _check_built(model, "load_weights")
    with file_io.open_h5(filepath) as h5file, file_io.h5_damage(filepath):
        read_model_state(model, h5file, filepath, skip_mismatch)


def _check_built(model, what: str) -> None:
    if not model.built:
        raise ValueError(
            f"{describe(model)}: {what} needs a built model, so that its weights "
            "exist; call it on data or build it with `model.build(input_shape)` first."
        )


def is_keras3_layout(h5file) -> bool:
    """Keras 3 files have a root ``vars`` group; Keras 2 files list ``layer_names``."""
    return "vars" in h5file or (
        "layers" in h5file and "layer_names" not in h5file.attrs
    )
