"""``ExportArchive``: several inference endpoints of tracked models written
together (Keras's API), and ``load_archive`` to call them back."""

from __future__ import annotations

import json
import os

import numpy as np
import torch

from lamina.export import exporters
from lamina.utils.validation import arg_error

INDEX = "endpoints.json"


class ExportArchive:
    """Endpoints (named inference functions of tracked models) and variable
    collections, written to a directory: one ``<endpoint>.pt2`` program (or
    ``.onnx`` file with ``format="onnx"``) per endpoint, ``<collection>.npz``
    per variable collection, and ``endpoints.json``.

    Args:
        format: ``"torch"`` (``torch.export`` programs) or ``"onnx"``.

    Example:
    >>> import lamina as keras
    >>> archive = ExportArchive()
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> _ = archive.track(model)
    >>> _ = archive.add_endpoint("serve", lambda x: model(x, training=False),
    ...     input_signature=[keras.InputSpec(shape=(None, 3), dtype="float32")])
    >>> sorted(archive.endpoint_names)
    ['serve']
    """

    def __init__(self, format="torch"):
        self.format = exporters.check_format("ExportArchive", format)
        self._tracked = []
        self._endpoints = {}
        self._collections = {}

    @property
    def endpoint_names(self) -> list[str]:
        return list(self._endpoints)

    def track(self, resource):
        """Keep ``resource`` (a layer or model) with the archive; its weights are
        the endpoints' constants."""
        if not isinstance(resource, torch.nn.Module):
            rule = "a Layer or Model (a torch.nn.Module)"
            raise arg_error("ExportArchive.track", "resource", rule, resource)
        self._tracked.append(resource)
        return resource

    def add_endpoint(self, name, fn=None, input_signature=None, **kwargs):
        """Trace ``fn(*inputs)`` for inputs of ``input_signature`` (a list of
        ``InputSpec``/``KerasTensor``s or shapes, one per argument)."""
        owner = "ExportArchive.add_endpoint"
        if not self._tracked:
            rule = "preceded by `track(model)`"
            raise arg_error(owner, "name", rule, name)
        if fn is None or input_signature is None:
            rule = "given (both `fn` and `input_signature`)"
            raise arg_error(owner, "fn", rule, fn)
        if name in self._endpoints:
            raise arg_error(owner, "name", "a name not used yet", name)
        structure, specs = exporters.specs_of(list(input_signature))
        program = exporters.trace(
            self._tracked[0], lambda packed: fn(*packed), structure, specs, owner
        )
        self._endpoints[name] = program
        return program

    def track_and_add_endpoint(self, name, resource, input_signature, **kwargs):
        self.track(resource)
        call = lambda *args: resource(*args, training=False)  # noqa: E731
        return self.add_endpoint(name, call, input_signature, **kwargs)

    def add_variable_collection(self, name, variables):
        """Save ``variables`` (a list or dict of them) with the archive."""
        if isinstance(variables, dict):
            values = {k: _array(v) for k, v in variables.items()}
        else:
            values = {f"{i}": _array(v) for i, v in enumerate(variables)}
        self._collections[name] = values

    def write_out(self, filepath, verbose=True, **kwargs):
        """Write the archive's directory (created if needed)."""
        if not self._endpoints:
            rule = "an archive with at least one endpoint (`add_endpoint`)"
            raise arg_error("ExportArchive.write_out", "filepath", rule, filepath)
        os.makedirs(filepath, exist_ok=True)
        suffix = ".pt2" if self.format == "torch" else ".onnx"
        for name, program in self._endpoints.items():
            path = os.path.join(filepath, name + suffix)
            if self.format == "torch":
                exporters.save_program(program, path)
            else:
                proto = exporters.to_onnx(program, "ExportArchive.write_out")
                _write_onnx(proto, path)
        for name, values in self._collections.items():
            np.savez(os.path.join(filepath, f"{name}.npz"), **values)
        index = {"format": self.format, "endpoints": self.endpoint_names}
        index["variable_collections"] = list(self._collections)
        with open(os.path.join(filepath, INDEX), "w") as handle:
            json.dump(index, handle, indent=2)
        if verbose:
            print(f"Saved artifact at '{filepath}': endpoints {self.endpoint_names}.")


class ReloadedArchive:
    """The endpoints of a ``torch`` archive, as callables named like them."""

    def __init__(self, filepath):
        with open(os.path.join(filepath, INDEX)) as handle:
            index = json.load(handle)
        if index["format"] != "torch":
            rule = 'a format="torch" archive (open .onnx files with onnxruntime)'
            raise arg_error("load_archive", "filepath", rule, filepath)
        for name in index["endpoints"]:
            program = torch.export.load(os.path.join(filepath, name + ".pt2"))
            setattr(self, name, program.module())
        self.variable_collections = {
            name: dict(np.load(os.path.join(filepath, f"{name}.npz")))
            for name in index["variable_collections"]
        }


def load_archive(filepath) -> ReloadedArchive:
    """The endpoints of an archive written by ``ExportArchive(format="torch")``."""
    return ReloadedArchive(filepath)


def _array(variable):
    return np.asarray(torch.as_tensor(variable).detach().cpu())


def _write_onnx(proto, path):
    with open(path, "wb") as handle:
        handle.write(proto.SerializeToString())
