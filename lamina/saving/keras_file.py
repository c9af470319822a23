"""The Keras 3 ``.keras`` format: a zip of ``metadata.json``, ``config.json`` and
``model.weights.h5``, read and written exactly as Keras 3 does.

``config.json`` holds the model's serialization with its ``build_config`` and,
for a compiled model, ``compile_config``; ``model.weights.h5`` holds the
variables of every layer and of the optimizer (``weights_h5``). Saving writes a
temporary file and renames it over the target, so an interrupted save leaves
the previous file intact.
"""

from __future__ import annotations

import datetime
import io
import os
import warnings
import zipfile

import h5py

from lamina.saving import file_io, model_config, serialization, weights_h5
from lamina.utils.validation import arg_error, describe
from lamina.version import __version__

CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"
WEIGHTS_FILE = "model.weights.h5"
# The Keras 3 file layout this module follows (stable across Keras 3.x).
FORMAT_VERSION = "3"


def save_model(model, filepath, overwrite: bool = True) -> None:
    """Write ``model`` to ``filepath`` (must end in ``.keras``)."""
    filepath = os.fspath(filepath)
    if not filepath.endswith(".keras"):
        raise arg_error(
            "save_model", "filepath", "a file name ending in `.keras`", filepath
        )
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"save_model: '{filepath}' exists and overwrite=False.")
    if not model.built:
        warnings.warn(
            f"{describe(model)} is not built yet, so the file holds no weights; "
            "call it on data or build it before saving.",
            stacklevel=3,
        )
    config_json = model_config.dumps(model_config.model_to_config(model))
    metadata_json = model_config.dumps(
        {
            "keras_version": FORMAT_VERSION,
            "saved_by": f"lamina {__version__}",
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        }
    )
    weights = io.BytesIO()
    with h5py.File(weights, "w") as h5file:
        weights_h5.write_model_state(model, h5file)
    with file_io.atomic_write(filepath) as tmp:
        with zipfile.ZipFile(tmp, "w") as archive:
            archive.writestr(METADATA_FILE, metadata_json)
            archive.writestr(CONFIG_FILE, config_json)
            archive.writestr(WEIGHTS_FILE, weights.getvalue())


def read_config(filepath) -> tuple[dict, dict]:
    """``(config, metadata)`` of a ``.keras`` file, without building anything."""
    with file_io.open_zip(filepath) as archive:
        return _read_config(archive, filepath)


def _read_config(archive, filepath):
    source = f"'{file_io.display_name(filepath)}'"
    config = model_config.loads(
        file_io.read_zip_member(archive, CONFIG_FILE, filepath),
        f"{source} ({CONFIG_FILE})",
    )
    metadata = {}
    if METADATA_FILE in archive.namelist():
        metadata = model_config.loads(
            file_io.read_zip_member(archive, METADATA_FILE, filepath),
            f"{source} ({METADATA_FILE})",
        )
    return config, metadata


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuild a model from a ``.keras`` file written by Keras 3 or lamina.

    Raises:
        FileFormatError: the file is not a readable ``.keras`` archive or an entry
            is missing or damaged (the message names the file and the entry).
        ValueError: the config names unknown objects, carries Python bytecode in
            safe mode, or the weights do not fit the model.
    """
    with file_io.open_zip(filepath) as archive:
        config, _ = _read_config(archive, filepath)
        source = f"'{file_io.display_name(filepath)}'"
        keras2 = not str(_keras_version(archive, filepath)).startswith("3")
        model = model_config.model_from_config(
            config, custom_objects, safe_mode, source=source, keras2=keras2
        )
        if compile and config.get("compile_config"):
            compile_from_config(model, config["compile_config"], custom_objects)
        weights = file_io.read_zip_member(archive, WEIGHTS_FILE, filepath)
    name = f"{file_io.display_name(filepath)} ({WEIGHTS_FILE})"
    with file_io.h5_from_bytes(weights, name) as h5file:
        weights_h5.read_model_state(model, h5file, name)
    return model


def load_weights(model, filepath, skip_mismatch: bool = False) -> None:
    """Load the weights entry of a ``.keras`` archive into ``model``."""
    with file_io.open_zip(filepath) as archive:
        weights = file_io.read_zip_member(archive, WEIGHTS_FILE, filepath)
    name = f"{file_io.display_name(filepath)} ({WEIGHTS_FILE})"
    with file_io.h5_from_bytes(weights, name) as h5file:
        weights_h5.read_model_state(model, h5file, name, skip_mismatch)


def _keras_version(archive, filepath) -> str:
    if METADATA_FILE not in archive.namelist():
        return "3"
    metadata = model_config.loads(
        file_io.read_zip_member(archive, METADATA_FILE, filepath), METADATA_FILE
    )
    return str(metadata.get("keras_version", "3"))


def compile_from_config(model, compile_config, custom_objects=None) -> None:
    """Compile ``model`` as it was when saved and create the optimizer's state, so
    the saved optimizer variables can be loaded into it."""
    if callable(getattr(model, "compile_from_config", None)):
        with serialization.custom_object_scope(custom_objects or {}):
            model.compile_from_config(compile_config)
        return
    warnings.warn(
        f"{describe(model)} was saved compiled, but it has no `compile()`; "
        "it is loaded uncompiled.",
        stacklevel=3,
    )
