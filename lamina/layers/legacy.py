"""Keras 1 and 2 layer names and argument spellings, translated to Keras 3 calls.

One table, ``SPELLINGS``, maps each layer class to its old argument names (and
the old positional forms, e.g. ``Convolution2D(64, 3, 3)`` for
``Conv2D(64, (3, 3))``). ``install()`` wraps those classes' constructors so an
old spelling is translated -- with a ``DeprecationWarning`` that shows the
modern call -- before the modern constructor runs; modern calls pass straight
through. Layer configs go through the same constructors, so Keras 1 configs in
old files are translated by the same table.

Old names that Keras 3 dropped (``AtrousConvolution2D``, ``Deconvolution2D``,
...) are thin subclasses whose instances are the modern layers, and the Keras 2
module paths (``lamina.layers.core.Dropout``, ``lamina.layers.recurrent.LSTM``,
...) are registered. Where a value's meaning changed and the old spelling asks
for it, the old meaning is kept: ``hard_sigmoid`` in a translated call is Keras
2's ``clip(0.2 x + 0.5, 0, 1)``, ``forget_bias_init="one"`` is
``unit_forget_bias=True``.
"""

from __future__ import annotations

import functools
import importlib
import sys
import types
import warnings
from dataclasses import dataclass, field

import torch

from lamina.saving.serialization import register_keras_serializable

KERAS2_HARD_SIGMOID = "lamina.legacy>hard_sigmoid"


@register_keras_serializable(package="lamina.legacy", name="hard_sigmoid")
def keras2_hard_sigmoid(x):
    """Keras 1/2's ``hard_sigmoid``: ``clip(0.2 * x + 0.5, 0, 1)`` (Keras 3's is
    ``relu6(x + 3) / 6``)."""
    return torch.clamp(torch.as_tensor(x) * 0.2 + 0.5, 0.0, 1.0)


# ----------------------------------------------------------------- the table
_ORDERING = {"tf": "channels_last", "th": "channels_first", "default": None}
_WEIGHTS = (
    ("init", "kernel_initializer"),
    ("W_regularizer", "kernel_regularizer"),
    ("b_regularizer", "bias_regularizer"),
    ("W_constraint", "kernel_constraint"),
    ("b_constraint", "bias_constraint"),
    ("bias", "use_bias"),
)
_CONV = (
    ("nb_filter", "filters"),
    ("subsample", "strides"),
    ("border_mode", "padding"),
    ("dim_ordering", "data_format"),
    ("atrous_rate", "dilation_rate"),
    *_WEIGHTS,
)
_CONV1D = (
    ("nb_filter", "filters"),
    ("filter_length", "kernel_size"),
    ("subsample_length", "strides"),
    ("border_mode", "padding"),
    ("atrous_rate", "dilation_rate"),
    *_WEIGHTS,
)
_RNN = (
    ("output_dim", "units"),
    ("init", "kernel_initializer"),
    ("inner_init", "recurrent_initializer"),
    ("inner_activation", "recurrent_activation"),
    ("W_regularizer", "kernel_regularizer"),
    ("U_regularizer", "recurrent_regularizer"),
    ("b_regularizer", "bias_regularizer"),
    ("dropout_W", "dropout"),
    ("dropout_U", "recurrent_dropout"),
    ("consume_less", None),  # implementation choice; torch picks its own kernel
)
_POOL1D = (
    ("pool_length", "pool_size"),
    ("stride", "strides"),
    ("border_mode", "padding"),
)
_POOL = (
    ("pool_length", "pool_size"),
    ("border_mode", "padding"),
    ("dim_ordering", "data_format"),
)
_ORDER_ONLY = (("dim_ordering", "data_format"),)


@dataclass(frozen=True)
class Spelling:
    """Old keyword -> new keyword (None: dropped); ``positional`` rewrites old
    positional forms; ``kernel_rank`` > 1 folds ``nb_row``/``nb_col`` or
    ``kernel_dim1..3`` into ``kernel_size``."""

    renames: tuple = ()
    kernel_rank: int = 0
    extra: tuple = field(default=())  # names of preprocessors below

    @property
    def old_names(self) -> frozenset:
        names = {old for old, _ in self.renames}
        if self.kernel_rank == 2:
            names |= {"nb_row", "nb_col"}
        if self.kernel_rank == 3:
            names |= {"kernel_dim1", "kernel_dim2", "kernel_dim3"}
        if "input_dim_length" in self.extra:
            names |= {"input_length"}
        if "forget_bias" in self.extra:
            names |= {"forget_bias_init"}
        if "output_shape" in self.extra:
            names |= {"output_shape"}
        if "mode" in self.extra:
            names |= {"mode"}
        return frozenset(names)


def _family(module: str, *names: str, **spelling) -> dict:
    return {name: (module, Spelling(**spelling)) for name in names}


SPELLINGS: dict[str, tuple[str, Spelling]] = {
    **_family("core", "Dense", renames=(("output_dim", "units"), *_WEIGHTS)),
    **_family(
        "core",
        "Embedding",
        renames=(
            ("init", "embeddings_initializer"),
            ("W_regularizer", "embeddings_regularizer"),
            ("W_constraint", "embeddings_constraint"),
            ("dropout", None),
        ),
        extra=("input_dim_length",),
    ),
    **_family("regularization", "Dropout", "GaussianDropout", renames=(("p", "rate"),)),
    **_family(
        "regularization",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "SpatialDropout3D",
        renames=(("p", "rate"), *_ORDER_ONLY),
    ),
    **_family("regularization", "GaussianNoise", renames=(("sigma", "stddev"),)),
    **_family("convolutional", "Conv1D", renames=_CONV1D, extra=("input_dim_length",)),
    **_family(
        "convolutional", "Conv2D", "SeparableConv2D", renames=_CONV, kernel_rank=2
    ),
    **_family(
        "convolutional",
        "Conv2DTranspose",
        renames=_CONV,
        kernel_rank=2,
        extra=("output_shape",),
    ),
    **_family("convolutional", "Conv3D", renames=_CONV, kernel_rank=3),
    **_family(
        "convolutional",
        "Conv3DTranspose",
        renames=_CONV,
        kernel_rank=3,
        extra=("output_shape",),
    ),
    **_family("convolutional", "SeparableConv1D", renames=_CONV1D),
    **_family(
        "rnn",
        "SimpleRNN",
        "GRU",
        "LSTM",
        renames=_RNN,
        extra=("forget_bias", "input_dim_length"),
    ),
    **_family("pooling", "MaxPooling1D", "AveragePooling1D", renames=_POOL1D),
    **_family(
        "pooling",
        "MaxPooling2D",
        "AveragePooling2D",
        "MaxPooling3D",
        "AveragePooling3D",
        renames=_POOL,
    ),
    **_family(
        "pooling",
        "GlobalMaxPooling2D",
        "GlobalAveragePooling2D",
        "GlobalMaxPooling3D",
        "GlobalAveragePooling3D",
        renames=_ORDER_ONLY,
    ),
    **_family("reshaping", "UpSampling1D", renames=(("length", "size"),)),
    **_family(
        "reshaping",
        "UpSampling2D",
        "UpSampling3D",
        "ZeroPadding2D",
        "ZeroPadding3D",
        "Cropping2D",
        "Cropping3D",
        renames=_ORDER_ONLY,
    ),
    **_family("locally_connected", "LocallyConnected1D", renames=_CONV1D),
    **_family("locally_connected", "LocallyConnected2D", renames=_CONV, kernel_rank=2),
    **_family("activations", "LeakyReLU", renames=(("alpha", "negative_slope"),)),
    **_family("activations", "PReLU", renames=(("init", "alpha_initializer"),)),
    **_family(
        "normalization",
        "BatchNormalization",
        renames=(
            ("beta_init", "beta_initializer"),
            ("gamma_init", "gamma_initializer"),
        ),
        extra=("mode",),
    ),
}

# Model methods with Keras 1 keywords: (class, method) -> renames. The models
# package applies them to its classes (``install_methods``).
METHOD_SPELLINGS = {
    ("Trainer", "fit"): (
        ("nb_epoch", "epochs"),
        ("nb_val_samples", "validation_steps"),
        ("samples_per_epoch", "steps_per_epoch"),
    ),
    # Keras 1's Model(input=..., output=...): __new__ picks the functional class,
    # then that class's __init__ receives the same keywords.
    ("Model", "__new__"): (
        ("input", "inputs"),
        ("output", "outputs"),
    ),
    ("Model", "__init__"): (
        ("input", "inputs"),
        ("output", "outputs"),
    ),
    ("Functional", "__init__"): (
        ("input", "inputs"),
        ("output", "outputs"),
    ),
}

# Old class names Keras 3 dropped: name -> (modern class, fixed keyword arguments).
RENAMED_CLASSES = {
    "AtrousConvolution1D": "Conv1D",
    "AtrousConvolution2D": "Conv2D",
    "Deconvolution2D": "Conv2DTranspose",
    "Deconvolution3D": "Conv3DTranspose",
    "Deconv2D": "Conv2DTranspose",
    "Deconv3D": "Conv3DTranspose",
}
# Keras 2 layers Keras 3 replaced by another class with other arguments: old name
# -> (family, modern class, old positional argument names, old defaults, renames).
REPLACED_LAYERS = {
    "ThresholdedReLU": (
        "activations",
        "ReLU",
        ("theta",),
        {"theta": 1.0},
        {"theta": "threshold"},
    ),
}
# Keras 1's merge(inputs, mode=...) and Merge(mode=...): mode -> (modern class,
# old argument -> new argument, fixed arguments). Masks follow Keras 3's rules (an
# OR where Keras 1 took an AND); "cos" is Dot(normalize=True), without Keras 1's
# extra axis of size 1 (which contradicted Keras 1's own output shape).
MERGE_MODES = {
    "sum": ("Add", {}, {}),
    "mul": ("Multiply", {}, {}),
    "ave": ("Average", {}, {}),
    "max": ("Maximum", {}, {}),
    "concat": ("Concatenate", {"concat_axis": "axis"}, {}),
    "dot": ("Dot", {"dot_axes": "axes"}, {}),
    "cos": ("Dot", {"dot_axes": "axes"}, {"normalize": True}),
}
# Keras 1 Merge arguments with no Keras 3 meaning for the string modes.
_MERGE_DROPPED = (
    "output_shape",
    "output_mask",
    "arguments",
    "node_indices",
    "tensor_indices",
    "mode_type",
    "output_shape_type",
    "output_mask_type",
)
# Keras 3 keeps these as aliases; lamina makes them read Keras 1's positional form
# (``Convolution2D(64, 3, 3)`` is a 3x3 kernel, as in every Keras 1 script).
KERAS1_ALIASES = {
    "Convolution1D": "Conv1D",
    "Convolution2D": "Conv2D",
    "Convolution3D": "Conv3D",
    "SeparableConvolution1D": "SeparableConv1D",
    "SeparableConvolution2D": "SeparableConv2D",
}
# Keras 2 module paths -> the names they held.
MODULE_PATHS = {
    "core": (
        "Dense",
        "Activation",
        "Dropout",
        "Flatten",
        "Reshape",
        "Permute",
        "RepeatVector",
        "Lambda",
        "Masking",
        "ActivityRegularization",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "SpatialDropout3D",
    ),
    "convolutional": (
        "Conv1D",
        "Conv2D",
        "Conv3D",
        "Conv2DTranspose",
        "Conv3DTranspose",
        "SeparableConv1D",
        "SeparableConv2D",
        "DepthwiseConv2D",
        "UpSampling1D",
        "UpSampling2D",
        "UpSampling3D",
        "ZeroPadding1D",
        "ZeroPadding2D",
        "ZeroPadding3D",
        "Cropping1D",
        "Cropping2D",
        "Cropping3D",
        *KERAS1_ALIASES,
        *RENAMED_CLASSES,
    ),
    "pooling": (
        "MaxPooling1D",
        "MaxPooling2D",
        "MaxPooling3D",
        "AveragePooling1D",
        "AveragePooling2D",
        "AveragePooling3D",
        "GlobalMaxPooling1D",
        "GlobalMaxPooling2D",
        "GlobalMaxPooling3D",
        "GlobalAveragePooling1D",
        "GlobalAveragePooling2D",
        "GlobalAveragePooling3D",
    ),
    "recurrent": (
        "RNN",
        "SimpleRNN",
        "GRU",
        "LSTM",
        "SimpleRNNCell",
        "GRUCell",
        "LSTMCell",
        "StackedRNNCells",
    ),
    "embeddings": ("Embedding",),
    "wrappers": ("TimeDistributed", "Bidirectional", "Wrapper"),
    "noise": ("GaussianNoise", "GaussianDropout", "AlphaDropout"),
    "advanced_activations": (
        "LeakyReLU",
        "PReLU",
        "ELU",
        "ThresholdedReLU",
        "Softmax",
        "ReLU",
    ),
    "merge": (
        "Add",
        "Subtract",
        "Multiply",
        "Average",
        "Maximum",
        "Minimum",
        "Concatenate",
        "Dot",
        "add",
        "subtract",
        "multiply",
        "average",
        "maximum",
        "minimum",
        "concatenate",
        "dot",
    ),
    "local": ("LocallyConnected1D", "LocallyConnected2D"),
    "normalization": ("BatchNormalization",),
}


# --------------------------------------------------------------- translation
def translate(class_name: str, args: tuple, kwargs: dict):
    """``(args, kwargs, changed)``: the modern arguments for ``class_name``.

    Raises:
        ValueError: for an old option Keras 3 cannot express (``border_mode=
            'full'``, ``BatchNormalization(mode=1)``), or an old and a new
            spelling of the same argument together.
    """
    _, spelling = SPELLINGS[class_name]
    args, kwargs = list(args), dict(kwargs)
    changed = _fold_kernel(spelling.kernel_rank, args, kwargs)
    for step in spelling.extra:
        changed |= _PREPROCESS[step](class_name, args, kwargs)
    for old, new in spelling.renames:
        if old not in kwargs:
            continue
        value = kwargs.pop(old)
        changed = True
        if new is None:
            continue
        if new in kwargs:
            raise ValueError(
                f"{class_name}: got both the Keras 1 argument `{old}` and its Keras 3 "
                f"name `{new}`; keep `{new}` only."
            )
        kwargs[new] = _convert_value(class_name, old, new, value)
    if changed:  # an old call: activation names keep their old meaning
        for key, value in kwargs.items():
            if key.endswith("activation"):
                kwargs[key] = _activation(value)
    return tuple(args), kwargs, changed


def _convert_value(class_name, old, new, value):
    if old == "dim_ordering":
        return _ORDERING.get(value, value)
    if old == "border_mode" and value == "full":
        raise ValueError(
            f"{class_name}: `border_mode='full'` has no Keras 3 equivalent; pad the "
            "input with ZeroPadding and use padding='valid'."
        )
    if new.endswith("initializer") and value in ("zero", "one"):
        return value + "s"
    return value


def _activation(value):
    return KERAS2_HARD_SIGMOID if value == "hard_sigmoid" else value


def _fold_kernel(rank, args, kwargs) -> bool:
    """Keras 1's ``(filters, nb_row, nb_col)`` / ``(filters, d1, d2, d3)``."""
    if rank < 2:
        return False
    names = (
        ("nb_row", "nb_col")
        if rank == 2
        else tuple(f"kernel_dim{i}" for i in (1, 2, 3))
    )
    dims = [a for a in args[1:]]
    if len(dims) >= rank and all(isinstance(d, int) for d in dims[:rank]):
        args[1:] = [tuple(dims[:rank]), *dims[rank:]]
        return True
    given = [kwargs.pop(n) for n in names[len(dims) :] if n in kwargs]
    if given:
        kernel = tuple(dims + given)
        if len(kernel) != rank:
            raise ValueError(f"Keras 1 kernel size needs {names}; got {kernel}.")
        del args[1:]
        kwargs["kernel_size"] = kernel
        return True
    return False


def _input_dim_length(class_name, args, kwargs) -> bool:
    if "input_dim" in kwargs and "input_length" in kwargs:
        kwargs["input_shape"] = (kwargs.pop("input_length"), kwargs.pop("input_dim"))
        return True
    if class_name == "Embedding" and "input_length" in kwargs:
        length = kwargs.pop("input_length")
        if length is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (length,)
        return True
    if "input_dim" in kwargs and class_name != "Embedding":
        kwargs["input_shape"] = (None, kwargs.pop("input_dim"))
        return True
    return False


def _forget_bias(class_name, args, kwargs) -> bool:
    if "forget_bias_init" not in kwargs:
        return False
    value = kwargs.pop("forget_bias_init")
    if value in ("one", "ones"):
        kwargs["unit_forget_bias"] = True
    elif value in ("zero", "zeros"):
        kwargs["unit_forget_bias"] = False
    else:
        warnings.warn(
            f"{class_name}: `forget_bias_init={value!r}` is ignored; Keras 3 offers "
            "`unit_forget_bias=True` (ones) or False (zeros).",
            DeprecationWarning,
            stacklevel=5,
        )
    return True


def _output_shape(class_name, args, kwargs) -> bool:
    """Keras 1 Deconvolution2D's ``output_shape`` is computed, not given, now."""
    dropped = kwargs.pop("output_shape", None) is not None
    if len(args) == 3 and isinstance(args[2], (tuple, list)) and len(args[2]) >= 3:
        args.pop()
        dropped = True
    return dropped


def _mode(class_name, args, kwargs) -> bool:
    if "mode" not in kwargs:
        return False
    if kwargs.pop("mode") != 0:
        raise ValueError(
            f"{class_name}: Keras 1's `mode=1`/`mode=2` no longer exist; only the "
            "default (mode=0) behaviour is available."
        )
    return True


_PREPROCESS = {
    "input_dim_length": _input_dim_length,
    "forget_bias": _forget_bias,
    "output_shape": _output_shape,
    "mode": _mode,
}


def _call_text(name, args, kwargs) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    text = ", ".join(parts)
    return f"{name}({text if len(text) < 200 else text[:197] + '...'})"


def _warn(old_name, old_args, old_kwargs, new_name, args, kwargs, stacklevel):
    warnings.warn(
        f"{_call_text(old_name, old_args, old_kwargs)} is Keras 1/2 code; the Keras 3 "
        f"call is {_call_text(new_name, args, kwargs)}.",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


# --------------------------------------------------------------- installation
def _accept_old_spellings(cls, class_name: str) -> None:
    original = cls.__init__
    old_names = SPELLINGS[class_name][1].old_names

    @functools.wraps(original)
    def __init__(self, *args, **kwargs):
        if old_names & kwargs.keys():
            new_args, new_kwargs, _ = translate(class_name, args, kwargs)
            _warn(
                type(self).__name__,
                args,
                kwargs,
                class_name,
                new_args,
                new_kwargs,
                stacklevel=3,
            )
            object.__setattr__(self, "_init_arguments", (new_args, new_kwargs))
            args, kwargs = new_args, new_kwargs
        original(self, *args, **kwargs)

    __init__._lamina_legacy = True
    cls.__init__ = __init__


def _make_old_name(old_name: str, modern, as_alias: bool):
    """A subclass of ``modern`` whose construction returns a ``modern`` instance
    built from translated arguments (so files and configs hold the modern name)."""
    modern_name = modern.__name__

    def __new__(cls, *args, **kwargs):
        if modern_name in SPELLINGS:
            new_args, new_kwargs, changed = translate(modern_name, args, kwargs)
        else:
            new_args, new_kwargs, changed = args, kwargs, False
        if changed or old_name in RENAMED_CLASSES:
            _warn(old_name, args, kwargs, modern_name, new_args, new_kwargs, 3)
        return modern(*new_args, **new_kwargs)

    def from_config(cls, config, custom_objects=None):
        return cls(**config)

    namespace = {
        "__new__": __new__,
        "from_config": classmethod(from_config),
        "__doc__": f"Keras 1/2's ``{old_name}``: builds a ``{modern_name}``.",
        "__module__": __name__,
    }
    cls = type(old_name, (modern,), namespace)
    if as_alias:  # stands where Keras 3 has an alias of the same class
        cls.__name__ = cls.__qualname__ = modern_name
    return cls


def _make_replaced(old_name, family, modern_name, positional, defaults, renames):
    """An old class whose construction returns the ``modern_name`` layer built from
    the old arguments (``ThresholdedReLU(theta)`` is ``ReLU(threshold=theta)``)."""
    modern = _layer_class(family, modern_name)

    def __new__(cls, *args, **kwargs):
        if len(args) > len(positional):
            raise TypeError(
                f"{old_name}: takes at most {len(positional)} positional "
                f"argument(s) {positional}; got {len(args)}."
            )
        old = {**defaults, **dict(zip(positional, args)), **kwargs}
        new = {renames.get(key, key): value for key, value in old.items()}
        _warn(old_name, args, kwargs, modern_name, (), new, 3)
        return modern(**new)

    def from_config(cls, config, custom_objects=None):
        return cls(**config)

    namespace = {
        "__new__": __new__,
        "from_config": classmethod(from_config),
        "__doc__": f"Keras 2's ``{old_name}``: builds a ``{modern_name}``.",
        "__module__": __name__,
    }
    return type(old_name, (modern,), namespace)


def merge_layer(mode="sum", caller="Merge", **kwargs):
    """The Keras 3 layer for Keras 1's ``Merge(mode=..., ...)``: ``Add`` for
    ``"sum"``, ``Concatenate(axis=concat_axis)`` for ``"concat"``, ... (see
    ``MERGE_MODES``); a callable ``mode`` becomes a ``Lambda`` over the list.

    Raises:
        ValueError: an unknown ``mode``; ``layers=`` (Keras 1's merge of models
            inside a Sequential: merge their outputs in a functional model
            instead); a mode saved as a function or lambda in a Keras 1 config.
    """
    if kwargs.get("layers") is not None:
        raise ValueError(
            f"{caller}: Keras 1's `layers=` (merging models inside a Sequential) "
            "has no Keras 3 form; build a functional model and merge the models' "
            "outputs, e.g. `concatenate([model_a.output, model_b.output])`."
        )
    if callable(mode):
        return _merge_lambda(mode, kwargs)
    if kwargs.get("mode_type", "raw") != "raw" or mode not in MERGE_MODES:
        raise ValueError(
            f"{caller}: `mode` must be one of {', '.join(map(repr, MERGE_MODES))} "
            f"or a callable; got mode={mode!r}"
            + (
                f" (saved as a {kwargs['mode_type']})."
                if "mode_type" in kwargs
                else "."
            )
        )
    class_name, renames, fixed = MERGE_MODES[mode]
    dropped = {"layers", "concat_axis", "dot_axes", *_MERGE_DROPPED}
    new = {k: v for k, v in kwargs.items() if k not in dropped}
    for old_key, new_key in renames.items():
        value = kwargs.get(old_key, -1)  # Keras 1's default for both
        new[new_key] = _one_axis_each(value) if old_key == "dot_axes" else value
    new.update(fixed)
    _warn(caller, (), {"mode": mode, **kwargs}, class_name, (), new, 4)
    return _layer_class("merging", class_name)(**new)


def _one_axis_each(axes):
    """Keras 1.0's ``dot_axes=[[1], [2]]`` as ``[1, 2]``."""
    if isinstance(axes, (list, tuple)) and all(
        isinstance(a, (list, tuple)) and len(a) == 1 for a in axes
    ):
        return [a[0] for a in axes]
    return axes


def _merge_lambda(mode, kwargs):
    output_mask = kwargs.get("output_mask")
    mask = output_mask
    if callable(output_mask):
        mask = lambda inputs, previous_mask: output_mask(previous_mask)  # noqa: E731
    lambda_class = _layer_class("core", "Lambda")
    return lambda_class(
        mode,
        output_shape=kwargs.get("output_shape"),
        mask=mask,
        arguments=kwargs.get("arguments"),
        name=kwargs.get("name"),
    )


def merge(inputs, mode="sum", **kwargs):
    """Keras 1's functional ``merge``: ``merge([a, b], mode="concat",
    concat_axis=1)`` is ``concatenate([a, b], axis=1)``, and so on (see
    ``merge_layer``)."""
    return merge_layer(mode, caller="merge", **kwargs)(inputs)


def _make_keras1_merge(base):
    """Keras 1's ``Merge`` layer: constructing it returns the Keras 3 layer."""

    def __new__(cls, layers=None, mode="sum", **kwargs):
        if layers is not None:
            kwargs["layers"] = layers
        return merge_layer(mode, **kwargs)

    def from_config(cls, config, custom_objects=None):
        return cls(**config)

    namespace = {
        "__new__": __new__,
        "from_config": classmethod(from_config),
        "__doc__": "Keras 1's ``Merge(mode=...)``: builds the Keras 3 merge layer.",
        "__module__": __name__,
    }
    return type("Merge", (base,), namespace)


def _layer_class(module: str, name: str):
    try:
        family = importlib.import_module(f"lamina.layers.{module}")
    except ModuleNotFoundError as e:
        if e.name != f"lamina.layers.{module}":
            raise
        return None
    return getattr(family, name, None)


def install(package) -> dict:
    """Wrap the table's classes and create the old names, with Keras 2's module
    paths under ``package`` (``lamina.layers``); returns the old names."""
    created = {}
    for class_name, (module, _) in SPELLINGS.items():
        cls = _layer_class(module, class_name)
        if cls is not None and not getattr(cls.__init__, "_lamina_legacy", False):
            _accept_old_spellings(cls, class_name)
    for table, as_alias in ((RENAMED_CLASSES, False), (KERAS1_ALIASES, True)):
        for old_name, modern_name in table.items():
            module = SPELLINGS.get(modern_name, ("convolutional", None))[0]
            modern = _layer_class(module, modern_name)
            if modern is not None:
                created[old_name] = _make_old_name(old_name, modern, as_alias)
    for old_name, spec in REPLACED_LAYERS.items():
        created[old_name] = _make_replaced(old_name, *spec)
    created["Merge"] = _make_keras1_merge(_layer_class("merging", "Add").__base__)
    _register_module_paths(package, created)
    # Keras 1's `merge` function; Keras 2's `keras.layers.merge` module stays
    # importable by its path (as in Keras 2.0, where the two shared the name).
    created["merge"] = merge
    return created


def install_methods(*classes) -> None:
    """Let the methods of ``classes`` listed in ``METHOD_SPELLINGS`` take their
    Keras 1 keywords."""
    by_name = {cls.__name__: cls for cls in classes}
    for (class_name, method), renames in METHOD_SPELLINGS.items():
        if class_name in by_name:
            _accept_old_keywords(by_name[class_name], method, renames)


def _accept_old_keywords(owner, method: str, renames) -> None:
    original = getattr(owner, method)
    if getattr(original, "_lamina_legacy", False):
        return
    old_names = {old for old, _ in renames}

    name = owner.__name__ if method in ("__new__", "__init__") else method

    @functools.wraps(original)
    def wrapper(self, *args, **kwargs):
        if old_names & kwargs.keys():
            new_kwargs = dict(kwargs)
            for old, new in renames:
                if old in new_kwargs:
                    new_kwargs[new] = new_kwargs.pop(old)
            if method != "__init__":  # __new__ already said it
                warnings.warn(
                    f"{name}({', '.join(f'{k}=...' for k in kwargs)}) is Keras 1 "
                    f"code; the Keras 3 call is "
                    f"{name}({', '.join(f'{k}=...' for k in new_kwargs)}).",
                    DeprecationWarning,
                    stacklevel=2,
                )
            kwargs = new_kwargs
        return original(self, *args, **kwargs)

    wrapper._lamina_legacy = True
    setattr(owner, method, staticmethod(wrapper) if method == "__new__" else wrapper)


def _register_module_paths(package, created: dict) -> None:
    for path, names in MODULE_PATHS.items():
        full = f"lamina.layers.{path}"
        module = sys.modules.get(full)
        if module is None:
            try:
                module = importlib.import_module(full)
            except ModuleNotFoundError as e:
                if e.name != full:
                    raise
                module = types.ModuleType(full, f"Keras 2's keras.layers.{path}.")
                sys.modules[full] = module
                setattr(package, path, module)
        for name in names:  # a family's own names stay as the family defines them
            obj = created.get(name) or getattr(package, name, None)
            if obj is not None and not hasattr(module, name):
                setattr(module, name, obj)
