"""``keras.utils.FeatureSpace``: structured-data preprocessing from a dict of
feature types, built on the preprocessing layers of this package.

Keras 3 runs FeatureSpace through TensorFlow (``tf.data`` for ``adapt``, TF ops
for the call), so on its torch backend it needs TensorFlow installed, and its
string and integer features need TensorFlow's lookup layers. lamina runs it on
NumPy and torch with the same layers, configs and file layout; ``adapt`` takes
what Keras's takes (a dict of arrays or lists) and also any iterable of dict
batches (a generator, a ``torch.utils.data.DataLoader``, a ``tf.data.Dataset``
if TensorFlow happens to be installed), of which an ``(x, y)`` pair gives ``x``.
"""

from __future__ import annotations

import numpy as np
import torch

from lamina.layers.input_layer import Input
from lamina.layers.keras_tensor import KerasTensor
from lamina.layers.layer import Layer
from lamina.layers.preprocessing.category_encoding import CategoryEncoding
from lamina.layers.preprocessing.discretization import Discretization
from lamina.layers.preprocessing.hashing import HashedCrossing, Hashing
from lamina.layers.preprocessing.integer_lookup import IntegerLookup
from lamina.layers.preprocessing.normalization import Normalization
from lamina.layers.preprocessing.string_lookup import StringLookup
from lamina.layers.preprocessing.text_vectorization import TextVectorization
from lamina.ops.dtypes import standardize_dtype
from lamina.saving import registry
from lamina.saving.serialization import (
    deserialize_keras_object,
    serialize_keras_object,
)
from lamina.utils.naming import auto_name
from lamina.utils.validation import arg_error

_MODULE = "keras.src.layers.preprocessing.feature_space"
_FEATURE_TYPES = (
    "float",
    "float_normalized",
    "float_rescaled",
    "float_discretized",
    "integer_categorical",
    "string_categorical",
    "integer_hashed",
    "string_hashed",
)


def _check_mode(owner, mode, allowed):
    if mode not in allowed:
        raise arg_error(owner, "output_mode", f"one of {sorted(allowed)}", mode)
    return mode


def _deserialize_part(config):
    """A Feature, Cross or preprocessing layer from its Keras config."""
    objects = {**registry.built_in("layers"), "Feature": Feature, "Cross": Cross}
    return deserialize_keras_object(
        config, module_objects=objects, printable_module_name="FeatureSpace entry"
    )


class _Saveable(torch.nn.Module):
    """A Feature or Cross: no variables of its own, but walked by the ``.keras``
    writer (a Feature's preprocessor is saved under it, as in Keras)."""

    _keras_module = _MODULE

    def save_own_variables(self, store):
        return None

    def load_own_variables(self, store):
        return None

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Cross(_Saveable):
    """A crossing of features, hashed into ``crossing_dim`` bins
    (``output_mode``: ``"one_hot"`` or ``"int"``)."""

    _keras_registered_name = "Cross"

    def __init__(self, feature_names, crossing_dim, output_mode="one_hot"):
        super().__init__()
        self.output_mode = _check_mode("Cross", output_mode, {"int", "one_hot"})
        self.feature_names = tuple(feature_names)
        self.crossing_dim = crossing_dim

    @property
    def name(self) -> str:
        return "_X_".join(self.feature_names)

    def get_config(self):
        return {
            "feature_names": self.feature_names,
            "crossing_dim": self.crossing_dim,
            "output_mode": self.output_mode,
        }


class Feature(_Saveable):
    """One feature: its input ``dtype``, its ``preprocessor`` layer and how its
    output is encoded (``output_mode``: ``"int"``, ``"one_hot"`` or ``"float"``)."""

    _keras_registered_name = "Feature"

    def __init__(self, dtype, preprocessor, output_mode):
        super().__init__()
        self.output_mode = _check_mode(
            "Feature", output_mode, {"int", "one_hot", "float"}
        )
        if isinstance(preprocessor, dict):
            preprocessor = _deserialize_part(preprocessor)
        if not isinstance(preprocessor, Layer):
            raise arg_error("Feature", "preprocessor", "a Keras layer", preprocessor)
        self.dtype = dtype
        self.preprocessor = preprocessor

    def get_config(self):
        return {
            "dtype": self.dtype,
            "preprocessor": serialize_keras_object(self.preprocessor),
            "output_mode": self.output_mode,
        }


class _DataLayer(Layer):
    _keras_module = _MODULE
    _promotes_integer_inputs = False

    def compute_output_spec(self, inputs):
        return KerasTensor(self.compute_output_shape(_shapes(inputs)), _dtype(inputs))

    def get_config(self):
        config = super().get_config()
        for key in (
            "autocast",
            "activity_regularizer",
        ):  # Keras's DataLayer has neither
            config.pop(key, None)
        return config


class TFDIdentity(_DataLayer):
    """The preprocessor of ``"float"`` features: returns its input."""

    _keras_registered_name = "TFDIdentity"

    def call(self, inputs):
        return inputs


class TFDConcat(_DataLayer):
    """Concatenates the encoded features along ``axis``."""

    _keras_registered_name = "TFDConcat"

    def __init__(self, axis, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs):
        return torch.cat([torch.as_tensor(x) for x in inputs], dim=self.axis)

    def compute_output_shape(self, input_shape):
        first = list(input_shape[0])
        sizes = [s[self.axis] for s in input_shape]
        first[self.axis] = None if None in sizes else sum(sizes)
        return tuple(first)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _shapes(inputs):
    if isinstance(inputs, (list, tuple)):
        return [tuple(x.shape) for x in inputs]
    return tuple(inputs.shape)


def _dtype(inputs):
    first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
    return first.dtype


class _FeatureTypes:
    """The feature constructors of ``FeatureSpace`` (``FeatureSpace.float()``...),
    with Keras's preprocessors and default names."""

    @classmethod
    def cross(cls, feature_names, crossing_dim, output_mode="one_hot"):
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype, preprocessor, output_mode):
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name=None):
        name = name or auto_name("float")
        layer = TFDIdentity(dtype="float32", name=f"{name}_preprocessor")
        return Feature("float32", layer, "float")

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name=None):
        name = name or auto_name("float_rescaled")
        rescaling = registry.lookup("layers", "Rescaling")  # image preprocessing
        layer = rescaling(scale=scale, offset=offset, name=f"{name}_preprocessor")
        return Feature("float32", layer, "float")

    @classmethod
    def float_normalized(cls, name=None):
        name = name or auto_name("float_normalized")
        layer = Normalization(axis=-1, name=f"{name}_preprocessor")
        return Feature("float32", layer, "float")

    @classmethod
    def float_discretized(
        cls, num_bins, bin_boundaries=None, output_mode="one_hot", name=None
    ):
        name = name or auto_name("float_discretized")
        layer = Discretization(
            num_bins=num_bins,
            bin_boundaries=bin_boundaries,
            name=f"{name}_preprocessor",
        )
        return Feature("float32", layer, output_mode)

    @classmethod
    def integer_categorical(
        cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None
    ):
        name = name or auto_name("integer_categorical")
        return _lookup_feature(
            IntegerLookup, "int32", name, max_tokens, num_oov_indices, output_mode
        )

    @classmethod
    def string_categorical(
        cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None
    ):
        name = name or auto_name("string_categorical")
        return _lookup_feature(
            StringLookup, "string", name, max_tokens, num_oov_indices, output_mode
        )

    @classmethod
    def string_hashed(cls, num_bins, output_mode="one_hot", name=None):
        name = name or auto_name("string_hashed")
        layer = Hashing(name=f"{name}_preprocessor", num_bins=num_bins)
        return Feature("string", layer, output_mode)

    @classmethod
    def integer_hashed(cls, num_bins, output_mode="one_hot", name=None):
        name = name or auto_name("integer_hashed")
        layer = Hashing(name=f"{name}_preprocessor", num_bins=num_bins)
        return Feature("int32", layer, output_mode)


def _lookup_feature(lookup, dtype, name, max_tokens, num_oov_indices, output_mode):
    layer = lookup(
        name=f"{name}_preprocessor",
        max_tokens=max_tokens,
        num_oov_indices=num_oov_indices,
    )
    return Feature(dtype, layer, output_mode)


def _cardinality(layer):
    """How many values an integer-encoded output of ``layer`` takes (None if it
    cannot be known, so the feature cannot be one-hot encoded)."""
    if isinstance(layer, (IntegerLookup, StringLookup)):
        return layer.vocabulary_size()
    if isinstance(layer, CategoryEncoding):
        return layer.num_tokens
    if isinstance(layer, Discretization):
        # Keras reads num_bins only, which is None when bin_boundaries are given.
        if layer.num_bins is None and layer.bin_boundaries is not None:
            return len(layer.bin_boundaries) + 1
        return layer.num_bins
    if isinstance(layer, (Hashing, HashedCrossing)):
        return layer.num_bins
    return None


def _as_column(value) -> np.ndarray:
    """A feature's values as an array with a trailing axis of 1 for 0-D/1-D data."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    elif hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()  # a TensorFlow tensor, when TF is there
    array = np.asarray(value)
    if array.dtype.kind in "SU":  # text as Python str/bytes objects, one way
        array = array.astype(object)
    return array.reshape(-1, 1) if array.ndim <= 1 else array


def _adapt_columns(dataset, names) -> dict[str, np.ndarray]:
    """``{name: all values}`` of a dict of arrays or an iterable of dict batches."""
    if isinstance(dataset, dict):
        return {name: _as_column(dataset[name]) for name in names}
    if hasattr(dataset, "as_numpy_iterator"):
        dataset = dataset.as_numpy_iterator()
    if isinstance(dataset, (str, bytes)) or not hasattr(dataset, "__iter__"):
        raise arg_error(
            "FeatureSpace.adapt",
            "dataset",
            "a dict of arrays or lists, or an iterable of such dicts",
            type(dataset).__name__,
        )
    parts: dict[str, list] = {name: [] for name in names}
    for batch in dataset:
        if isinstance(batch, (tuple, list)) and batch:
            batch = batch[0]  # (x, y) pairs
        if not isinstance(batch, dict):
            raise arg_error(
                "FeatureSpace.adapt",
                "dataset",
                "batches that are dicts of feature values",
                type(batch).__name__,
            )
        for name in names:
            if name not in batch:
                raise ValueError(
                    f"FeatureSpace.adapt: a batch has no feature {name!r}; it "
                    f"has {sorted(batch)}."
                )
            parts[name].append(_as_column(batch[name]))
    if names and not parts[names[0]]:
        raise ValueError("FeatureSpace.adapt: `dataset` yielded no batch.")
    return {name: np.concatenate(p, axis=0) for name, p in parts.items()}


class FeatureSpace(_FeatureTypes, Layer):
    """One-stop preprocessing and encoding of structured data (a dict of features).

    Each feature is named by type (``"float"``, ``"float_normalized"``,
    ``"float_rescaled"``, ``"float_discretized"``, ``"integer_categorical"``,
    ``"string_categorical"``, ``"integer_hashed"``, ``"string_hashed"``) or given
    as ``FeatureSpace.<type>(...)`` / ``FeatureSpace.feature(dtype, preprocessor,
    output_mode)``. ``adapt()`` learns the statistics and vocabularies; a call
    on a dict of values returns the encoded features. Keras 3 needs TensorFlow
    for this class; lamina does not (see the module docstring).

    Args:
        features: dict mapping each feature name to its type (a name above, a
            ``Feature`` or its config).
        output_mode: ``"concat"`` (one float vector: the features in sorted name
            order, then the crosses) or ``"dict"`` (a dict of encoded features).
        crosses: feature crosses, as tuples of feature names (hashed into
            ``crossing_dim`` bins) or ``FeatureSpace.cross(...)``.
        crossing_dim: bins of the crosses given as tuples (default 32).
        hashing_dim: bins of ``"*_hashed"`` features given by name (default 32).
        num_discretization_bins: bins of ``"float_discretized"`` features given
            by name (default 32).
        name: the layer's name.

    Input shape:
        A dict of feature values: each a scalar, a ``(batch,)`` or ``(batch, 1)``
        array, list or tensor (strings as ``str`` arrays or lists).

    Output shape:
        ``"concat"``: ``(batch, total encoded size)`` float32 (``(size,)`` for
        scalar inputs). ``"dict"``: one ``(batch, size)`` tensor per feature and
        cross.

    Weights:
        Those of the preprocessors (e.g. a ``Normalization``'s ``mean``,
        ``variance`` and ``count``); the vocabularies of lookups are assets.

    Raises:
        ValueError: empty ``features``, an unknown feature type, a cross naming
            an unknown feature, a bad ``output_mode``; a call or ``get_inputs()``
            before ``adapt()`` when a preprocessor needs it; a feature that cannot
            be one-hot encoded or concatenated.

    Example:
    >>> import lamina as keras
    >>> space = keras.utils.FeatureSpace(
    ...     {"age": "float_normalized", "city": "string_categorical"})
    >>> space.adapt({"age": [20.0, 40.0], "city": ["Oslo", "Lima"]})
    >>> space({"age": [30.0], "city": ["Lima"]}).numpy()
    array([[0., 0., 0., 1.]], dtype=float32)
    """

    _keras_module = "keras.utils"
    _promotes_integer_inputs = False

    def __init__(
        self,
        features,
        output_mode="concat",
        crosses=None,
        crossing_dim=32,
        hashing_dim=32,
        num_discretization_bins=32,
        name=None,
    ):
        super().__init__(name=name)
        if not features:
            raise arg_error("FeatureSpace", "features", "a non-empty dict", features)
        self.output_mode = _check_mode("FeatureSpace", output_mode, {"dict", "concat"})
        self.crossing_dim = crossing_dim
        self.hashing_dim = hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {n: self._standardize(n, f) for n, f in features.items()}
        self.crosses = [self._standardize_cross(c) for c in crosses or []]
        self.crosses_by_name = {cross.name: cross for cross in self.crosses}
        self.inputs = {
            n: Input(shape=(1,), dtype=f.dtype, name=n)
            for n, f in self.features.items()
        }
        self.preprocessors = {n: f.preprocessor for n, f in self.features.items()}
        self.crossers = {
            c.name: HashedCrossing(c.crossing_dim, name=c.name) for c in self.crosses
        }
        self.encoded_features = None
        self.one_hot_encoders = {}
        self.concat = None
        self._is_adapted = False
        self._sublayers_built = False

    def _standardize(self, name, feature):
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict):
            return _deserialize_part(feature)
        if feature not in _FEATURE_TYPES:
            raise arg_error(
                "FeatureSpace",
                f"features[{name!r}]",
                f"a Feature or one of {list(_FEATURE_TYPES)}",
                feature,
            )
        if feature == "float_discretized":
            return self.float_discretized(self.num_discretization_bins, name=name)
        if feature.endswith("_hashed"):
            return getattr(self, feature)(self.hashing_dim, name=name)
        return getattr(self, feature)(name=name)

    def _standardize_cross(self, cross):
        if isinstance(cross, dict):
            cross = _deserialize_part(cross)
        if isinstance(cross, Cross):
            return cross
        if not self.crossing_dim:
            raise arg_error(
                "FeatureSpace",
                "crossing_dim",
                "a positive int with `crosses`",
                self.crossing_dim,
            )
        unknown = [n for n in cross if n not in self.features]
        if unknown:
            raise arg_error(
                "FeatureSpace",
                "crosses",
                f"crosses of the features {sorted(self.features)}",
                tuple(cross),
            )
        return Cross(cross, crossing_dim=self.crossing_dim)

    # ------------------------------------------------------------ adapting
    def _adaptable(self) -> list[str]:
        names = []
        for name, layer in self.preprocessors.items():
            if isinstance(layer, Normalization) and layer.input_mean is not None:
                continue
            if isinstance(layer, (TextVectorization, IntegerLookup, StringLookup)):
                if layer._has_input_vocabulary:
                    continue
            if callable(getattr(layer, "adapt", None)):
                names.append(name)
        return names

    def adapt(self, dataset):
        """Learn each preprocessor's statistics or vocabulary from ``dataset``:
        a dict of arrays or lists, or an iterable of dict batches."""
        names = self._adaptable()
        columns = _adapt_columns(dataset, names)
        for name in names:
            self.preprocessors[name].adapt(columns[name])
        self._is_adapted = True
        self.get_encoded_features()
        self.built = True

    def _check_if_adapted(self):
        if not self._is_adapted:
            if self._adaptable():
                raise ValueError(
                    f"FeatureSpace '{self.name}': call `adapt(dataset)` before "
                    f"using it; these features learn from data: {self._adaptable()}."
                )
            self._is_adapted = True

    def get_inputs(self):
        """The dict of ``Input`` tensors, one ``(None, 1)`` per feature."""
        self._check_if_built()
        return self.inputs

    def get_encoded_features(self):
        """The encoded symbolic tensor(s) computed from ``get_inputs()``."""
        self._check_if_adapted()
        if self.encoded_features is None:
            features = self._preprocess(self.inputs)
            self.encoded_features = self._merge(features, self._cross(features))
            self._sublayers_built = True
        return self.encoded_features

    def _check_if_built(self):
        if not self._sublayers_built:
            self.get_encoded_features()

    # ------------------------------------------------------------- calling
    def _preprocess(self, data):
        return {name: self.preprocessors[name](data[name]) for name in data}

    def _cross(self, features):
        return {
            cross.name: self.crossers[cross.name](
                [features[n] for n in cross.feature_names]
            )
            for cross in self.crosses
        }

    def _merge(self, features, crossed):
        names = sorted(features) + sorted(crossed)
        merged = {**features, **crossed}
        outputs = {}
        for name in names:
            feature = merged[name]
            if name not in self.one_hot_encoders and not self._sublayers_built:
                self._make_encoder(name, feature)
            encoder = self.one_hot_encoders.get(name)
            outputs[name] = encoder(feature) if encoder is not None else feature
        if self.output_mode == "dict":
            return outputs
        if self.concat is None:
            for name, value in outputs.items():
                if not standardize_dtype(value.dtype).startswith(("float", "bfloat")):
                    raise ValueError(
                        f"FeatureSpace '{self.name}': cannot concatenate feature "
                        f"{name!r}: it is not encoded (dtype {value.dtype}); use "
                        "output_mode='dict' or a one_hot/float feature."
                    )
            self.concat = TFDConcat(axis=-1)
        return self.concat([outputs[n] for n in names])

    def _make_encoder(self, name, feature):
        spec = self.features.get(name) or self.crosses_by_name[name]
        if spec.output_mode != "one_hot":
            return
        dtype = standardize_dtype(feature.dtype)
        if not dtype.startswith(("int", "uint")):
            raise ValueError(
                f"FeatureSpace '{self.name}': feature {name!r} has "
                f"output_mode='one_hot', so its preprocessor must return integers; "
                f"it returns {dtype}."
            )
        layer = self.preprocessors.get(name) or self.crossers.get(name)
        cardinality = _cardinality(layer)
        if cardinality is None:
            raise ValueError(
                f"FeatureSpace '{self.name}': feature {name!r} has "
                "output_mode='one_hot' but the size of its output space is not "
                "known, so it cannot be one-hot encoded; use output_mode='int'."
            )
        self.one_hot_encoders[name] = CategoryEncoding(
            num_tokens=cardinality, output_mode="multi_hot"
        )

    def __call__(self, data):
        if not isinstance(data, dict):
            raise arg_error(
                "FeatureSpace", "data", "a dict of feature values", type(data).__name__
            )
        self._check_if_built()
        missing = sorted(set(self.features) - set(data))
        if missing:
            raise ValueError(
                f"FeatureSpace '{self.name}': `data` has no value for {missing}."
            )
        rebatched = all(np.ndim(data[n]) == 0 for n in self.features)
        columns = {n: _as_column(data[n]) for n in self.features}
        features = self._preprocess(columns)
        merged = self._merge(features, self._cross(features))
        if not rebatched:
            return merged
        if self.output_mode == "concat":
            return merged[0]
        return {
            n: x[0] if x.ndim == 2 and x.shape[0] == 1 else x for n, x in merged.items()
        }

    # ------------------------------------------------------------- configs
    def get_config(self):
        return {
            "features": serialize_keras_object(self.features),
            "output_mode": self.output_mode,
            "crosses": serialize_keras_object(self.crosses),
            "crossing_dim": self.crossing_dim,
            "hashing_dim": self.hashing_dim,
            "num_discretization_bins": self.num_discretization_bins,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_build_config(self):
        return {
            name: feature.preprocessor.get_build_config()
            for name, feature in self.features.items()
        }

    def build_from_config(self, config):
        for name, build_config in (config or {}).items():
            layer = self.features[name].preprocessor
            if not layer.built and build_config:
                layer.build_from_config(build_config)
        self._is_adapted = True

    def save(self, filepath):
        """Write this FeatureSpace to a ``.keras`` file
        (``keras.models.load_model`` reads it back)."""
        registry.lookup("saving", "save_model")(self, filepath)

    def save_own_variables(self, store):
        return None

    def load_own_variables(self, store):
        return None


registry.register(
    "layers",
    {"TFDIdentity": TFDIdentity, "TFDConcat": TFDConcat, "FeatureSpace": FeatureSpace},
)
