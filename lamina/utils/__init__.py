"""``keras.utils``: data loading (``image_dataset_from_directory``,
``timeseries_dataset_from_array``, ``PyDataset``...), array helpers
(``to_categorical``, ``pad_sequences``...), files (``get_file``, images),
serialization, model plots and the other public names of ``keras.utils``.

This package is imported by every module of lamina (for ``validation``, ``tree``,
``naming``), so it stays light: the names below are loaded on first use from the
modules in ``_LAZY`` (several sit above the layers or models); only the small
leaf helpers are imported at once.
"""

import importlib

from lamina.utils.config import Config as Config
from lamina.utils.rng_utils import set_random_seed as set_random_seed
from lamina.utils.sequence_utils import pad_sequences as pad_sequences

_LAZY = {
    "CustomObjectScope": "lamina.saving.serialization",
    "FeatureSpace": "lamina.layers.preprocessing.feature_space",
    "Progbar": "lamina.utils.progbar",
    "PyDataset": "lamina.trainers.py_dataset",
    "Sequence": "lamina.trainers.py_dataset",
    "array_to_img": "lamina.utils.image_utils",
    "audio_dataset_from_directory": "lamina.utils.audio_dataset",
    "bounding_boxes": "lamina.utils.bounding_boxes",
    "clear_session": "lamina.backend",
    "custom_object_scope": "lamina.saving.serialization",
    "deserialize_keras_object": "lamina.saving.serialization",
    "disable_interactive_logging": "lamina.config",
    "enable_interactive_logging": "lamina.config",
    "get_custom_objects": "lamina.saving.serialization",
    "get_file": "lamina.utils.file_utils",
    "get_registered_name": "lamina.saving.serialization",
    "get_registered_object": "lamina.saving.serialization",
    "get_source_inputs": "lamina.utils.graph_utils",
    "image_dataset_from_directory": "lamina.utils.image_dataset",
    "img_to_array": "lamina.utils.image_utils",
    "is_interactive_logging_enabled": "lamina.config",
    "is_keras_tensor": "lamina.layers.keras_tensor",
    "legacy": "lamina.utils.legacy",
    "load_img": "lamina.utils.image_utils",
    "model_to_dot": "lamina.utils.plot",
    "model_to_dot_source": "lamina.utils.plot",
    "normalize": "lamina.utils.numerical_utils",
    "pack_x_y_sample_weight": "lamina.trainers.data_adapters",
    "plot_model": "lamina.utils.plot",
    "register_keras_serializable": "lamina.saving.serialization",
    "save_img": "lamina.utils.image_utils",
    "serialize_keras_object": "lamina.saving.serialization",
    "split_dataset": "lamina.utils.dataset_utils",
    "standardize_dtype": "lamina.ops.dtypes",
    "text_dataset_from_directory": "lamina.utils.text_dataset",
    "timeseries_dataset_from_array": "lamina.utils.timeseries_dataset",
    "to_categorical": "lamina.utils.numerical_utils",
    "unpack_x_y_sample_weight": "lamina.trainers.data_adapters",
}
_MODULES = {"bounding_boxes", "legacy"}  # names that are modules themselves

__all__ = sorted(["Config", "pad_sequences", "set_random_seed", *_LAZY])


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        value = module if name in _MODULES else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lamina.utils' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
