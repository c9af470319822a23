"""The Keras 3 ``.keras`` format: a zip of ``metadata.json``, ``config.json``,
``model.weights.h5`` and ``assets/``, read and written exactly as Keras 3 does.

``config.json`` holds the model's serialization with its ``build_config`` and,
for a compiled model, ``compile_config``; ``model.weights.h5`` holds the
variables of every layer and of the optimizer (``weights_h5``); ``assets/<path>/``
holds the files of each object that defines ``save_assets(dir_path)`` (a
vocabulary), ``<path>`` being its weights path, and is given back to its
``load_assets(dir_path)`` after its variables are loaded. Saving writes a
temporary file and renames it over the target, so an interrupted save leaves
the previous file intact.
"""

from __future__ import annotations

import datetime
import io
import os
import tempfile
import warnings
import zipfile

import h5py

from lamina.saving import file_io, model_config, registry, serialization, weights_h5
from lamina.utils.validation import arg_error, describe
from lamina.version import __version__

CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"
WEIGHTS_FILE = "model.weights.h5"
ASSETS_DIR = "assets"
# Assets are unpacked to disk for ``load_assets``: bound what an archive may put
# there (members one by one are bounded by ``file_io.read_zip_member``).
MAX_ASSETS_BYTES = 4 << 30
# config.json and metadata.json are text describing layers: any larger is a bomb.
MAX_CONFIG_BYTES = 256 << 20
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
            _write_assets(model, archive)


def _write_assets(model, archive: zipfile.ZipFile) -> None:
    """Each object's ``save_assets`` files under ``assets/<its path>/``."""
    savers = [
        (path, obj)
        for path, obj in weights_h5.walk(model)
        if callable(getattr(obj, "save_assets", None))
    ]
    if not savers:
        return
    with tempfile.TemporaryDirectory() as root:
        for path, obj in savers:
            folder = os.path.join(root, *path.split("/")) if path else root
            os.makedirs(folder, exist_ok=True)
            obj.save_assets(folder)
        for folder, _, files in sorted(os.walk(root)):
            for name in sorted(files):
                full = os.path.join(folder, name)
                relative = os.path.relpath(full, root).replace(os.sep, "/")
                archive.write(full, f"{ASSETS_DIR}/{relative}")


def read_config(filepath) -> tuple[dict, dict]:
    """``(config, metadata)`` of a ``.keras`` file, without building anything."""
    with file_io.open_zip(filepath) as archive:
        return _read_config(archive, filepath)


def _read_config(archive, filepath):
    source = f"'{file_io.display_name(filepath)}'"
    config = model_config.loads(
        file_io.read_zip_member(archive, CONFIG_FILE, filepath, MAX_CONFIG_BYTES),
        f"{source} ({CONFIG_FILE})",
    )
    metadata = {}
    if METADATA_FILE in archive.namelist():
        metadata = model_config.loads(
            file_io.read_zip_member(archive, METADATA_FILE, filepath, MAX_CONFIG_BYTES),
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
            with serialization.config_errors(f"{source} (its compile_config)"):
                compile_from_config(model, config["compile_config"], custom_objects)
        weights = file_io.read_zip_member(archive, WEIGHTS_FILE, filepath)
        name = f"{file_io.display_name(filepath)} ({WEIGHTS_FILE})"
        with file_io.h5_from_bytes(weights, name) as h5file, file_io.h5_damage(name):
            weights_h5.read_model_state(model, h5file, name)
        _load_assets(model, archive, filepath)
    return model


def _load_assets(model, archive: zipfile.ZipFile, filepath) -> None:
    """Unpack ``assets/`` to a temporary folder (refusing paths that leave it)
    and hand each object with ``load_assets`` its own folder (None if absent)."""
    loaders = [
        (path, obj)
        for path, obj in weights_h5.walk(model)
        if callable(getattr(obj, "load_assets", None))
    ]
    if not loaders:
        return
    members = [m for m in archive.namelist() if m.startswith(f"{ASSETS_DIR}/")]
    with tempfile.TemporaryDirectory() as root:
        total = 0
        for member in members:
            parts = member.split("/")[1:]
            if member.endswith("/") or not parts:
                continue
            if (
                member.startswith("/")
                or "\\" in member
                or any(p in ("", ".", "..") for p in parts)
            ):
                raise file_io.file_error(
                    filepath,
                    f"archive entry '{member}' leaves the assets folder; refused.",
                )
            data = file_io.read_zip_member(archive, member, filepath)
            total += len(data)
            if total > MAX_ASSETS_BYTES:
                raise file_io.file_error(
                    filepath, f"its assets exceed {MAX_ASSETS_BYTES} bytes; refused."
                )
            target = os.path.join(root, *parts)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
        for path, obj in loaders:
            folder = os.path.join(root, *path.split("/")) if path else root
            try:
                obj.load_assets(folder if os.path.isdir(folder) else None)
            except (ValueError, TypeError, OSError, IndexError, KeyError) as e:
                raise file_io.file_error(
                    filepath,
                    f"the assets of '{path or 'the model'}' cannot be loaded "
                    f"({type(e).__name__}: {e}); the file is damaged.",
                ) from e


def load_weights(model, filepath, skip_mismatch: bool = False) -> None:
    """Load the weights entry of a ``.keras`` archive into ``model``."""
    with file_io.open_zip(filepath) as archive:
        weights = file_io.read_zip_member(archive, WEIGHTS_FILE, filepath)
    name = f"{file_io.display_name(filepath)} ({WEIGHTS_FILE})"
    with file_io.h5_from_bytes(weights, name) as h5file, file_io.h5_damage(name):
        weights_h5.read_model_state(model, h5file, name, skip_mismatch)


def _keras_version(archive, filepath) -> str:
    if METADATA_FILE not in archive.namelist():
        return "3"
    metadata = model_config.loads(
        file_io.read_zip_member(archive, METADATA_FILE, filepath, MAX_CONFIG_BYTES),
        METADATA_FILE,
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


# Layers that save themselves as a whole (FeatureSpace.save) sit below this module.
registry.register("saving", {"save_model": save_model})
