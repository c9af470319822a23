"""``Model``: a layer with model-level API; ``Model(inputs, outputs)`` is functional."""

from __future__ import annotations

from lamina.layers import run_plan
from lamina.layers.core.quantized import quantize_model
from lamina.layers.layer import Layer
from lamina.models.functional_config import functional_from_config
from lamina.models.summary import print_summary
from lamina.saving import model_config, saving_api
from lamina.trainers.trainer import Trainer
from lamina.utils.validation import describe

_functional_variants: dict[type, type] = {}


def _has_graph_arguments(args, kwargs) -> bool:
    return (
        len(args) >= 2
        or ("inputs" in kwargs and "outputs" in kwargs)
        or (len(args) == 1 and "outputs" in kwargs)
    )


def conform_input(owner, x, ref_shape, name):
    """``x`` as a model input of shape ``ref_shape`` (batch axis free), Keras 3's
    way: a trailing axis of size 1 may be added or dropped; any other rank, or a
    fixed size that differs, raises.

    A wrong rank or size never gives a quietly wrong answer: Keras 3.15.1 raises
    for these too (earlier Keras versions only warned for some); lamina's message
    names the model, the input and both shapes. The batch axis is not checked.

    Raises:
        ValueError: naming the model, the input, the expected and received shapes.
    """
    shape = getattr(x, "shape", None)
    if shape is None or ref_shape is None:
        return x
    rank, ref_rank = len(shape), len(ref_shape)
    if rank == ref_rank:
        for got, want in zip(shape[1:], ref_shape[1:]):
            if want is not None and got != want:
                raise _input_error(owner, x, ref_shape, name)
        return x
    if rank == ref_rank + 1 and shape[-1] == 1:
        return x[..., 0]
    if rank == ref_rank - 1 and ref_rank and ref_shape[-1] == 1:
        return x[..., None]
    raise _input_error(owner, x, ref_shape, name)


def _input_error(owner, x, ref_shape, name) -> ValueError:
    return ValueError(
        f"{describe(owner)}: input {name!r} must have shape {tuple(ref_shape)} "
        f"(None: any size); got shape {tuple(x.shape)}."
    )


class Model(Trainer, Layer):
    """Groups layers into an object with training and inference features.

    Three ways to make one, as in Keras: ``Model(inputs, outputs)`` (functional),
    ``Sequential([...])``, or subclassing ``Model`` and writing ``call``. A
    subclass may also call ``super().__init__(inputs=..., outputs=...)`` to become
    a functional model with extra methods.
    """

    _keras_module = "keras.src.models.model"
    _promotes_integer_inputs = False  # each layer decides for its own inputs
    # The class of functional models; lamina.models.functional sets it (it
    # subclasses Model, so this module cannot import it).
    _functional_class: type

    def __new__(cls, *args, **kwargs):
        if cls is Model and _has_graph_arguments(args, kwargs):
            functional = Model._functional_class
            return functional.__new__(functional, *args, **kwargs)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        functional = Model._functional_class
        if _has_graph_arguments(args, kwargs) and not isinstance(self, functional):
            self.__class__ = _functional_variant(type(self))
            functional.__init__(self, *args, **kwargs)
            return
        if args:
            raise TypeError(
                f"{type(self).__name__}: Model() takes `inputs` and `outputs` (both) or "
                f"keyword arguments only; got {len(args)} positional argument(s)."
            )
        super().__init__(**kwargs)

    @run_plan.plain_layer_call
    def __call__(self, *args, **kwargs):
        # A top-level call with a current run plan follows it at once.
        if len(args) == 1 and (not kwargs or kwargs.keys() == {"training"}):
            outputs = run_plan.follow(self, args[0], kwargs.get("training"))
            if outputs is not NotImplemented:
                return outputs
        return Layer.__call__(self, *args, **kwargs)

    def _follows_chain_plans(self) -> bool:
        """Whether this model's run plans are one chain of runners that
        ``run_plan.follow`` may run for a whole call (Sequential's; a
        Functional chain's): not where a subclass overrides ``call``."""
        return False

    def _chain_plan_output(self, x):
        """The call's result from a chain plan's last output ``x``."""
        return x

    # ---------------------------------------------------------------- layers
    @property
    def inputs(self):
        return None

    @property
    def outputs(self):
        return None

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by ``name`` or by ``index`` (in ``model.layers``)."""
        layers = self.layers
        if index is not None and name is not None:
            raise ValueError(
                f"{describe(self)}: get_layer takes `name` or `index`, not both; "
                f"got name={name!r}, index={index!r}."
            )
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"{describe(self)}: `index` must be in [0, {len(layers) - 1}] "
                    f"(the model has {len(layers)} layers); got index={index}."
                )
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"{describe(self)}: no layer named {name!r}. Layers: "
                f"{[layer.name for layer in layers]}."
            )
        raise ValueError(f"{describe(self)}: get_layer needs `name` or `index`.")

    def summary(
        self,
        line_length=None,
        positions=None,
        print_fn=None,
        expand_nested=False,
        show_trainable=False,
        layer_range=None,
    ):
        """Print a table of layers, output shapes and parameter counts (Keras layout)."""
        print_summary(
            self,
            line_length=line_length,
            positions=positions,
            print_fn=print_fn,
            expand_nested=expand_nested,
            show_trainable=show_trainable,
            layer_range=layer_range,
        )

    def quantize(self, mode=None, config=None, filters=None, **kwargs):
        """Quantize the weights of every Dense, EinsumDense and Embedding (the
        model must be built): ``mode="int8"`` or an ``Int8QuantizationConfig``;
        ``filters``: a regex on layer names, a list of them or a predicate.
        Keras's other modes raise ``NotImplementedError`` (see
        ``lamina.layers.core.quantized``)."""
        quantize_model(self, mode, config, filters, **kwargs)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A functional config (with ``input_layers``) rebuilds the graph; any other
        config goes to the constructor, as Keras does for subclassed models."""
        if "input_layers" in config and "layers" in config:
            target = Model._functional_class if cls is Model else cls
            return functional_from_config(target, config, custom_objects)
        return cls(**config)

    # ---------------------------------------------------------------- files
    def save(self, filepath, overwrite=True, **kwargs):
        """Save to ``.keras`` (Keras 3 format) or ``.h5`` (Keras 2 layout),
        atomically; see ``lamina.saving.save_model``."""
        saving_api.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def export(
        self, filepath, format="onnx", verbose=None, input_signature=None, **kwargs
    ):
        """Export the inference function: ``format="onnx"`` (an ``.onnx`` file,
        dynamic batch axis) or ``"torch"`` (a ``torch.export`` ``.pt2``
        program); see ``lamina.export.export_model``."""
        # lamina.export sits above models (it traces any model)
        from lamina.export import export_model

        return export_model(self, filepath, format, verbose, input_signature, **kwargs)

    def save_weights(self, filepath, overwrite=True):
        """Save the weights to ``.weights.h5`` (Keras 3) or ``.h5`` (Keras 2)."""
        saving_api.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, by_name=False):
        """Load weights from ``.weights.h5``, ``.keras`` or Keras 1/2 ``.h5``."""
        saving_api.load_weights(
            self, filepath, skip_mismatch=skip_mismatch, by_name=by_name
        )

    def to_json(self, **kwargs) -> str:
        """The model's Keras 3 serialization as JSON (``model_from_json`` reads it)."""
        return model_config.to_json(self, **kwargs)


def _functional_variant(cls: type) -> type:
    """``cls`` rebased on Functional, for subclasses that pass inputs/outputs."""
    variant = _functional_variants.get(cls)
    if variant is None:
        bases = (cls, Model._functional_class)
        variant = type(cls.__name__, bases, {"__module__": cls.__module__})
        _functional_variants[cls] = variant
    return variant
