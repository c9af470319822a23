"""A model's inference function as a ``torch.export`` program (``.pt2``) or an
ONNX file, through torch's own exporters; the batch axis stays dynamic.

The model runs with ``training=False`` on example inputs made from its input
signature (``None`` batch -> 2); any other ``None`` size must be given by an
``input_signature``. Where torch cannot export an op, the error names the layer
that calls it and the op.
"""

from __future__ import annotations

import contextlib
import functools
import re
import warnings

import torch
from torch.fx import traceback as fx_traceback

from lamina.utils import tree
from lamina.utils.validation import arg_error, describe
from lamina.version import __version__

FORMATS = ("onnx", "torch")
REFUSED = ("tf_saved_model", "openvino", "litert", "tflite")
DEFAULT_OPSET = 18
EXAMPLE_BATCH = 2


class InferenceFunction(torch.nn.Module):
    """``fn(*inputs)``, the inputs given as separate tensors (what exporters take)
    and packed back into ``structure`` for the call."""

    def __init__(self, model, fn, structure):
        super().__init__()
        self.model = model
        self._fn = fn
        self._structure = structure

    def forward(self, *inputs):
        packed = tree.pack_sequence_as(self._structure, list(inputs))
        return self._fn(packed)


def check_format(owner, fmt) -> str:
    if fmt in REFUSED:
        raise ValueError(
            f"{describe(owner)}: `format` must be one of {FORMATS} (lamina runs on "
            f"PyTorch, not TensorFlow or OpenVINO); got format={fmt!r}. Export "
            'with format="onnx" (readable by onnxruntime, TensorRT, OpenVINO) or '
            'format="torch" (a torch.export .pt2 program).'
        )
    if fmt not in FORMATS:
        raise arg_error(owner, "format", f"one of {FORMATS}", fmt)
    return fmt


def example_inputs(owner, signature):
    """Example tensors for the flat list of input specs (objects with ``shape``
    and ``dtype``, or shapes), the batch axis set to ``EXAMPLE_BATCH``."""
    examples = []
    for spec in signature:
        shape = spec.shape
        if any(d is None for d in shape[1:]):
            rule = "a shape whose sizes are known after the batch axis"
            raise arg_error(owner, "input_signature", rule, shape)
        dtype = getattr(torch, str(spec.dtype).replace("torch.", ""))
        size = (EXAMPLE_BATCH, *shape[1:])
        if dtype.is_floating_point:
            examples.append(torch.randn(size, dtype=dtype))
        else:
            examples.append(torch.zeros(size, dtype=dtype))
    return examples


class Spec:
    """One input of a signature: its shape (``None`` for the batch) and dtype."""

    def __init__(self, shape, dtype=None):
        self.shape = tuple(shape)
        self.dtype = dtype or "float32"


def specs_of(structure):
    """``structure`` with every leaf (an ``InputSpec``/``KerasTensor`` or a shape
    tuple) as a ``Spec``; returns the structure and its flat list of specs."""

    def convert(node):
        if hasattr(node, "shape"):
            return Spec(node.shape, getattr(node, "dtype", None))
        if isinstance(node, (list, tuple)) and all(
            d is None or isinstance(d, int) for d in node
        ):
            return Spec(node)
        if isinstance(node, dict):
            return {key: convert(value) for key, value in node.items()}
        if isinstance(node, (list, tuple)):
            return type(node)(convert(item) for item in node)
        rule = "InputSpecs, KerasTensors or shape tuples"
        raise arg_error("export", "input_signature", rule, node)

    converted = convert(structure)
    return converted, tree.flatten(converted)


def model_signature(model, input_signature):
    """The (structure, flat specs) of the model's inputs."""
    if input_signature is not None:
        structure = input_signature
        if isinstance(structure, list) and len(structure) == 1:
            structure = structure[0]
    elif getattr(model, "inputs", None):
        inputs = model.inputs
        structure = inputs[0] if len(inputs) == 1 else list(inputs)
    elif getattr(model, "_build_shapes", None) is not None:
        structure = model._build_shapes
    else:
        rule = "given for a model that was never called (or built)"
        raise arg_error(f"{describe(model)}.export()", "input_signature", rule, None)
    return specs_of(structure)


def trace(model, fn, structure, specs, owner):
    """``fn`` (the inputs packed as ``structure`` -> outputs) as a
    ``torch.export.ExportedProgram`` with a dynamic batch axis."""
    examples = example_inputs(owner, specs)
    module = InferenceFunction(model, fn, structure)
    dynamic = tuple({0: torch.export.Dim.AUTO} for _ in examples)
    was_training = model.training
    model.eval()
    try:
        with (
            torch.no_grad(),
            fx_traceback.preserve_node_meta(),
            layers_annotated(model),
        ):
            return torch.export.export(
                module, tuple(examples), dynamic_shapes=(dynamic,), strict=False
            )
    except Exception as error:  # torch raises many types; name the culprit
        raise unsupported_error(owner, error, None) from error
    finally:
        model.train(was_training)


def save_program(program, path: str) -> None:
    """``torch.export.save`` of ``program`` at ``path``. Convolution kernels are
    stored in a permuted memory order (``Variable.lay_out``): each covers its
    whole storage without being contiguous, which torch's archive writer
    warns about although it writes that whole storage with the strides, a
    correct copy on any device; that one warning is silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No complete tensor found")
        torch.export.save(program, path)


@contextlib.contextmanager
def layers_annotated(model):
    """While tracing, each node records the innermost layer whose ``call`` made
    it (``node.meta["custom"]["layer"]``), so errors can name it: every
    sublayer's ``call`` is wrapped on the instance, and unwrapped after."""
    wrapped = []
    for layer in model.modules():
        if hasattr(layer, "call") and "call" not in layer.__dict__:
            label = f"'{getattr(layer, 'name', '?')}' ({type(layer).__name__})"
            layer.__dict__["call"] = _annotated(layer.call, label)
            wrapped.append(layer)
    try:
        yield
    finally:
        for layer in wrapped:
            del layer.__dict__["call"]


def _annotated(call, label):
    @functools.wraps(call)
    def annotated(*args, **kwargs):
        with fx_traceback.annotate({"layer": label}):
            return call(*args, **kwargs)

    return annotated


def to_onnx(program, owner, opset_version=None):
    """The ONNX model (an ``onnx.ModelProto``) of an exported program, with the
    opset and lamina's version recorded in its metadata."""
    opset = opset_version or DEFAULT_OPSET
    try:
        onnx_program = torch.onnx.export(
            program, opset_version=opset, dynamo=True, verbose=False
        )
    except Exception as error:  # torch raises many types; name the culprit
        raise unsupported_error(owner, error, program) from error
    proto = onnx_program.model_proto
    for key, value in (("lamina_version", __version__), ("opset", str(opset))):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    return proto


_OP = re.compile(r"((?:aten|prims)(?:::|\.)[A-Za-z0-9_]+)")


def unsupported_error(owner, error, program) -> ValueError:
    """A ``ValueError`` naming the op torch could not export and the layer that
    calls it (read from the program's module stack when there is one)."""
    text = str(error)
    match = _OP.search(text)
    op = match.group(1).replace("::", ".") if match else None
    layer = _layer_of(program, op) if program is not None and op else None
    where = f" in layer {layer}" if layer else ""
    what = f"the operation {op}" if op else "an operation"
    first = _summary(text) or type(error).__name__
    return ValueError(
        f"{describe(owner)}: every operation must be exportable; {what}{where} "
        f"is not ({type(error).__name__}: {first})"
    )


def _summary(text) -> str:
    """The line of torch's message that says what failed, without colours."""
    lines = [_ANSI.sub("", line).strip() for line in text.strip().splitlines()]
    lines = [line for line in lines if line]
    found = [line for line in lines if "No ONNX function found" in line]
    return (found or lines or [""])[0]


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _layer_of(program, op):
    """The layer recorded on the first node whose target names ``op`` (its
    decomposed form, ``prims.zeta``, matches ``aten.special_zeta`` too)."""
    name = op.split(".")[-1].lstrip("_")
    for node in program.graph.nodes:
        if node.op == "call_function" and name in str(node.target):
            layer = (node.meta.get("custom") or {}).get("layer")
            if layer:
                return layer
    return None
