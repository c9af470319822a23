"""Symbolic shape inference: run a layer's own ``call`` on stand-in tensors.

A ``KerasTensor``'s unknown sizes (None) are replaced by two different sizes; an
output size that follows the substitution is unknown too. The stand-ins are fake
(meta-backed) tensors, so nothing is allocated or computed; an op fake tensors
cannot run (a data-dependent shape) falls back to small real zero tensors.
"""

from __future__ import annotations

import torch

from lamina import config
from lamina import dtype_policies as policies
from lamina.layers.call_context import call_context as _ctx
from lamina.layers.keras_tensor import KerasTensor
from lamina.utils import tree


def shapes_of(inputs):
    if isinstance(inputs, (list, tuple)):
        return [shapes_of(x) for x in inputs]
    if isinstance(inputs, dict):
        return {k: shapes_of(v) for k, v in inputs.items()}
    if inputs is None:
        return None
    return tuple(inputs.shape)


def shape_to_config(shapes):
    if isinstance(shapes, tuple):
        return list(shapes)
    if isinstance(shapes, list):
        return [shape_to_config(s) for s in shapes]
    if isinstance(shapes, dict):
        return {k: shape_to_config(v) for k, v in shapes.items()}
    return shapes


def shape_from_config(shapes):
    if isinstance(shapes, (list, tuple)) and all(
        d is None or isinstance(d, int) for d in shapes
    ):
        return tuple(shapes)
    if isinstance(shapes, (list, tuple)):
        return [shape_from_config(s) for s in shapes]
    if isinstance(shapes, dict):
        return {k: shape_from_config(v) for k, v in shapes.items()}
    return shapes


def symbolic_from_shapes(shapes, dtype):
    if isinstance(shapes, tuple) and all(
        d is None or isinstance(d, int) for d in shapes
    ):
        return KerasTensor(shapes, dtype=dtype)
    if isinstance(shapes, (list, tuple)):
        return [symbolic_from_shapes(s, dtype) for s in shapes]
    if isinstance(shapes, dict):
        return {k: symbolic_from_shapes(v, dtype) for k, v in shapes.items()}
    return KerasTensor(tuple(shapes), dtype=dtype)


# Unknown sizes are replaced by two different sizes; an output size that follows the
# substitution is unknown (None) too. Both are multiples of 2, 3, 4 and 6 so layers
# that split or reshape an unknown axis still see a legal size.
_PROBE_SIZES = (60, 84)
_LARGE_PROBE_SIZES = (600, 840)
_FALLBACK_SIZES = (12, 24)
_fake_mode = None


def _get_fake_mode():
    global _fake_mode
    if _fake_mode is None:
        # Imported on first use: symbolic_shapes alone takes ~0.5 s to import.
        from torch._subclasses.fake_tensor import FakeTensorMode
        from torch.fx.experimental.symbolic_shapes import ShapeEnv

        # With a shape environment, ops whose output size depends on the data
        # (nonzero, unique, boolean masks) give symbolic sizes: unknown (None).
        _fake_mode = FakeTensorMode(allow_non_fake_inputs=True, shape_env=ShapeEnv())
    return _fake_mode


def _has_unknown(structure) -> bool:
    return any(
        isinstance(t, KerasTensor) and None in t.shape for t in tree.flatten(structure)
    )


def _materialize(structure, size: int, factory):
    def convert(x):
        if not isinstance(x, KerasTensor):
            return x
        tensor = factory(tuple(size if d is None else d for d in x.shape), x.dtype)
        if x._keras_mask is not None:
            tensor._keras_mask = convert(x._keras_mask)
        return tensor

    return tree.map_structure(convert, structure)


def _run_probe(layer, args, kwargs, size: int, fake: bool):
    device = config.get_device()

    def factory(shape, dtype):
        return torch.zeros(shape, dtype=policies.to_torch_dtype(dtype), device=device)

    previous = _ctx.symbolic
    _ctx.symbolic = True
    try:
        if fake:
            with _get_fake_mode():
                probe_args = _materialize(args, size, factory)
                probe_kwargs = _materialize(kwargs, size, factory)
                return layer._eager_call(probe_args, dict(probe_kwargs))
        probe_args = _materialize(args, size, factory)
        probe_kwargs = _materialize(kwargs, size, factory)
        with torch.no_grad():
            return layer._eager_call(probe_args, dict(probe_kwargs))
    finally:
        _ctx.symbolic = previous


def infer_symbolic_outputs(layer, args, kwargs):
    """Run ``layer`` on stand-in tensors to learn its output shapes, dtypes and masks.

    String inputs have no stand-in tensors (torch holds no strings): a layer that
    takes them answers with its own ``compute_output_spec``.
    """
    if any(
        isinstance(t, KerasTensor) and t.dtype == "string"
        for t in tree.flatten((args, kwargs))
    ):
        return _declared_outputs(layer, args, kwargs)
    known = _known_output(layer, args, kwargs)
    if known is not None:
        return known
    two_runs = _has_unknown((args, kwargs))
    try:
        return _to_keras_tensors(_probe(layer, args, kwargs, _PROBE_SIZES, two_runs))
    except (ValueError, TypeError, NotImplementedError, RuntimeError) as error:
        if not two_runs:
            raise
        # A window longer than the stand-in size (a pooling or kernel size over an
        # unknown axis): try much larger stand-ins before reporting the error.
        try:
            runs = _probe(layer, args, kwargs, _LARGE_PROBE_SIZES, two_runs)
        except Exception:
            raise error from None
        return _to_keras_tensors(runs)


def _known_output(layer, args, kwargs):
    """The output, known without running ``call``, of a layer that keeps its
    input's shape (``_preserves_shape``) or computes it exactly in
    ``compute_output_shape`` (``_declares_output_shape``), called on one unmasked
    tensor already in its compute dtype (so no cast or mask changes the result);
    None otherwise."""
    preserves = getattr(layer, "_preserves_shape", False)
    if not (preserves or getattr(layer, "_declares_output_shape", False)):
        return None
    if len(args) != 1 or any(isinstance(v, KerasTensor) for v in tree.flatten(kwargs)):
        return None
    x = args[0]
    if not isinstance(x, KerasTensor) or x._keras_mask is not None:
        return None
    if x.dtype != layer.compute_dtype:
        return None
    shape = x.shape if preserves else layer.compute_output_shape(tuple(x.shape))
    return KerasTensor(tuple(shape), dtype=x.dtype)


def _declared_outputs(layer, args, kwargs):
    method = type(layer).compute_output_spec
    if getattr(method, "__qualname__", "") == "Layer.compute_output_spec":
        raise TypeError(
            f"{type(layer).__name__} '{layer.name}' was called on a string "
            "KerasTensor; torch has no string tensors to run `call` on, so the "
            "layer must define `compute_output_spec(inputs)` to say what it returns."
        )
    return layer.compute_output_spec(*args, **kwargs)


def _probe(layer, args, kwargs, sizes, two_runs):
    sizes = sizes if two_runs else sizes[:1]
    try:
        return [_run_probe(layer, args, kwargs, s, fake=True) for s in sizes]
    except (ValueError, TypeError, NotImplementedError):
        raise
    except Exception:  # an op fake tensors cannot run (data-dependent shape, ...)
        sizes = _FALLBACK_SIZES if two_runs else _FALLBACK_SIZES[:1]
        return [_run_probe(layer, args, kwargs, s, fake=False) for s in sizes]


def _merge_shape(tensors) -> tuple:
    shapes = [
        tuple(d if isinstance(d, int) else None for d in t.shape) for t in tensors
    ]
    return tuple(
        d if all(s[i] == d for s in shapes) else None for i, d in enumerate(shapes[0])
    )


def _to_keras_tensors(runs):
    flat_runs = [tree.flatten(r) for r in runs]

    def symbolic(tensors):
        first = tensors[0]
        if not isinstance(first, torch.Tensor):
            return first
        kt = KerasTensor(_merge_shape(tensors), dtype=policies.dtype_name(first.dtype))
        masks = [getattr(t, "_keras_mask", None) for t in tensors]
        if all(isinstance(m, torch.Tensor) for m in masks):
            kt._keras_mask = KerasTensor(
                _merge_shape(masks), dtype=policies.dtype_name(masks[0].dtype)
            )
        return kt

    flat = [symbolic(list(group)) for group in zip(*flat_runs)]
    return tree.pack_sequence_as(runs[0], flat)
