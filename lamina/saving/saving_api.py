"""``save_model`` / ``load_model`` / ``save_weights`` / ``load_weights``: pick the
format from the file name when writing and from the file's content when reading.

Formats: ``.keras`` (Keras 3 zip), ``.weights.h5`` (Keras 3 weights), ``.h5`` /
``.hdf5`` (Keras 1/2 and tf.keras model or weights files), JSON configs.
"""

from __future__ import annotations

import os

from lamina.saving import file_io, keras_file, legacy_h5, model_config, weights_h5

_LEGACY_SUFFIXES = (".h5", ".hdf5")


def save_model(model, filepath, overwrite: bool = True, **kwargs) -> None:
    """Save ``model`` as ``.keras`` (Keras 3) or ``.h5``/``.hdf5`` (Keras 2 layout).

    Args:
        model: the model.
        filepath: the file name; its suffix picks the format.
        overwrite: replace an existing file (default True).
        include_optimizer: (``.h5`` only) also store the optimizer state.
    """
    filepath = os.fspath(filepath)
    zipped = kwargs.pop("zipped", None)
    include_optimizer = kwargs.pop("include_optimizer", True)
    kwargs.pop("save_format", None)  # Keras 2 keyword; the suffix decides
    if kwargs:
        raise TypeError(f"save_model: unexpected argument(s) {sorted(kwargs)}.")
    if filepath.endswith(_LEGACY_SUFFIXES):
        legacy_h5.save_model(model, filepath, overwrite, include_optimizer)
        return
    if zipped is False:
        raise ValueError(
            "save_model: `zipped=False` (a folder instead of a .keras archive) is "
            "not supported by lamina; save to a `.keras` file."
        )
    keras_file.save_model(model, filepath, overwrite)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model saved by Keras 1, 2 or 3 (``.keras``, ``.h5``) or lamina.

    Args:
        filepath: the file; its format is recognized from its content.
        custom_objects: dict of names to the custom classes and functions the
            model uses (or register them with ``register_keras_serializable``).
        compile: compile the model as it was when saved (restoring the optimizer
            state), when the file records that.
        safe_mode: refuse Python bytecode (Lambda layers made from lambdas);
            default True. Pass False only for files you trust.

    Raises:
        FileNotFoundError: no such file.
        FileFormatError: the file is damaged or not a model file.
        ValueError: bytecode in safe mode, unknown objects, weights that do not fit.
    """
    kind = file_io.sniff(filepath)
    if kind == "zip":
        return keras_file.load_model(filepath, custom_objects, compile, safe_mode)
    if kind == "hdf5":
        return legacy_h5.load_model(filepath, custom_objects, compile, safe_mode)
    if kind == "json":
        with open(filepath, encoding="utf-8") as f:
            text = f.read()
        config = model_config.loads(text, f"'{filepath}'")
        return model_config.model_from_config(
            config, custom_objects, safe_mode, source=f"'{filepath}'"
        )
    raise file_io.file_error(
        filepath,
        f"it is not a model file (a {kind}); lamina loads `.keras` archives, Keras "
        "1/2 `.h5` files and JSON configs.",
    )


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Save the weights: ``.weights.h5`` in Keras 3's layout, ``.h5`` in Keras 2's."""
    filepath = os.fspath(filepath)
    if filepath.endswith(".weights.h5"):
        weights_h5.save_weights(model, filepath, overwrite)
    elif filepath.endswith(_LEGACY_SUFFIXES):
        legacy_h5.save_weights(model, filepath, overwrite)
    else:
        raise ValueError(
            "save_weights: the file name must end in `.weights.h5` (Keras 3 layout) "
            f"or `.h5` (Keras 2 layout); got filepath={filepath!r}."
        )


def load_weights(model, filepath, skip_mismatch: bool = False, by_name: bool = False):
    """Load weights from a ``.weights.h5``, ``.keras`` or Keras 1/2 ``.h5`` file.

    Args:
        skip_mismatch: skip (with a warning) layers whose weights do not fit.
        by_name: (Keras 1/2 files) match layers by name instead of by order.
    """
    kind = file_io.sniff(filepath)
    if kind == "zip":
        keras_file.load_weights(model, filepath, skip_mismatch)
        return
    if kind != "hdf5":
        raise file_io.file_error(
            filepath, f"it is not a weights file (it looks like {kind})."
        )
    with file_io.open_h5(filepath) as h5file, file_io.h5_damage(filepath):
        if weights_h5.is_keras3_layout(h5file):
            if by_name:
                raise ValueError(
                    f"load_weights: `by_name=True` applies to Keras 1/2 `.h5` files; "
                    f"'{filepath}' is in Keras 3's layout, which is matched by "
                    "structure."
                )
            weights_h5._check_built(model, "load_weights")
            weights_h5.read_model_state(model, h5file, filepath, skip_mismatch)
        else:
            legacy_h5.load_weights_from_file(
                model, h5file, filepath, skip_mismatch, by_name
            )
