"""Merge: the one base of the merge layers (Add, Concatenate, Dot, ...).

A merge layer takes a list of tensors. The base checks the list and the shapes
when the layer is built (an error names the layer and every input shape), lines
up inputs of different ranks as Keras does (size-1 axes inserted after the batch
axis, so the axes after the batch axis align on the right), merges the input
masks, and gives the symbolic output shape by Keras's shape rules. Each public
class is its reduction, ``_merge_function(inputs)``, plus the shape rules of its
own where they differ (Concatenate, Dot).

The shape rules are written here rather than in ``lamina/ops/shapes.py`` (the
home of size arithmetic) only because that module was closed to this change;
they are pure functions of shape tuples and can move there as they are.
"""

from __future__ import annotations

import torch

from lamina.layers.keras_tensor import KerasTensor, Node
from lamina.layers.layer import Layer, _cast_keeping_mask
from lamina.layers.shape_inference import infer_symbolic_outputs, shapes_of
from lamina.utils.validation import describe


# ------------------------------------------------------------- shape rules
def broadcast_dims(dims1: tuple, dims2: tuple) -> tuple | None:
    """The elementwise result of two shapes (batch axis excluded), aligned on the
    right; ``None`` sizes stay unknown. None when they do not broadcast.

    >>> broadcast_dims((4, 3), (1,)), broadcast_dims((None, 3), (5, 1))
    ((4, 3), (None, 3))
    >>> broadcast_dims((4, 3), (2, 3)) is None
    True
    """
    if len(dims1) < len(dims2):
        dims1, dims2 = dims2, dims1
    lead = len(dims1) - len(dims2)
    output = list(dims1[:lead])
    for i, j in zip(dims1[lead:], dims2):
        if i is None or j is None:
            output.append(None)
        elif i == 1 or j == 1 or i == j:
            output.append(j if i == 1 else i)
        else:
            return None
    return tuple(output)


def known_sizes(sizes) -> set:
    """The known sizes other than 1 among ``sizes``."""
    return {size for size in sizes if size is not None and size != 1}


def fill_unknown(shape: tuple, sizes: dict) -> tuple:
    """``shape`` with each unknown size at axis ``i`` replaced by ``sizes[i]``."""
    return tuple(sizes.get(i) if d is None else d for i, d in enumerate(shape))


def format_shapes(shapes) -> str:
    return "[" + ", ".join(str(tuple(s)) for s in shapes) + "]"


# ------------------------------------------------------------------ base
class Merge(Layer):
    """The base of the merge layers: called on a list of tensors, it checks their
    shapes, lines up their ranks and merges their masks; a subclass defines
    ``_merge_function(inputs)``.

    Masks: the output mask is the logical OR of the input masks when every input
    has one, and no mask otherwise (Concatenate and Dot have rules of their own).
    """

    _num_inputs: int | None = None  # exactly this many inputs (Subtract, Dot)
    _aligns_ranks = True  # inputs of lower rank get size-1 axes after the batch

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        # The output mask only ever comes from input masks: with none, the Layer
        # need not ask `compute_mask` (a saving of half the call at batch 1).
        self._call_info = self._call_info._replace(computes_mask=False)

    def _merge_function(self, inputs):
        raise NotImplementedError(
            f"{describe(self)}: a Merge subclass must define `_merge_function`."
        )

    # ---------------------------------------------------------- shapes
    def _shape_list(self, input_shape) -> list:
        """The input shapes as a list, after checking there is a list of them,
        of the right length."""
        if (
            not isinstance(input_shape, (list, tuple))
            or not input_shape
            or not all(isinstance(s, (list, tuple)) for s in input_shape)
        ):
            count = f"{self._num_inputs}" if self._num_inputs else "at least 1"
            raise ValueError(
                f"{describe(self)}: `inputs` must be a list of {count} tensors; "
                f"got input_shape={input_shape!r}."
            )
        shapes = [tuple(s) for s in input_shape]
        if self._num_inputs is not None and len(shapes) != self._num_inputs:
            raise self._shape_error(
                f"`inputs` must be a list of exactly {self._num_inputs} tensors "
                f"(got {len(shapes)})",
                shapes,
            )
        return shapes

    def _check_batch(self, shapes) -> None:
        if len(_batch_sizes(shapes)) > 1:
            raise self._shape_error("the inputs must have the same batch size", shapes)

    def _shape_error(self, rule: str, shapes) -> ValueError:
        return ValueError(
            f"{describe(self)}: {rule}; got input shapes {format_shapes(shapes)}."
        )

    def build(self, input_shape):
        self._check_shapes(self._shape_list(input_shape))

    def _check_shapes(self, shapes) -> None:
        """Raise the error naming every input shape if ``shapes`` cannot merge."""
        self.compute_output_shape(shapes)

    def compute_output_shape(self, input_shape):
        shapes = self._shape_list(input_shape)
        self._check_batch(shapes)
        dims = shapes[0][1:]
        for shape in shapes[1:]:
            dims = broadcast_dims(dims, shape[1:])
            if dims is None:
                raise self._shape_error(
                    "the inputs must have shapes that broadcast (the axes after "
                    "the batch axis aligned on the right, each pair of sizes "
                    "equal or one of them 1)",
                    shapes,
                )
        return (_batch_size(shapes), *dims)

    def _probe_shapes(self, shapes) -> list:
        """Shapes to run the symbolic call on: an unknown size takes a size
        another input knows on the same (right-aligned) axis, so the stand-in
        tensors broadcast; the output shape itself follows Keras's rules."""
        rank = max(len(s) for s in shapes)
        aligned = [(None,) * (rank - len(s)) + s[1:] for s in shapes]
        fill = {}
        for axis in range(rank - 1):
            sizes = known_sizes(s[axis] for s in aligned)
            if len(sizes) == 1:
                fill[axis] = sizes.pop()
        batch = _batch_size(shapes)
        return [
            (batch, *fill_unknown(a, fill)[rank - len(s) :])
            for s, a in zip(shapes, aligned)
        ]

    # ------------------------------------------------------------ call
    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            self._shape_list(shapes_of(inputs))  # raises: not a list
        merged = inputs
        if self.autocast:
            merged = _autocast(merged, self._compute_torch_dtype)
        if self._aligns_ranks and any(x.ndim != merged[0].ndim for x in merged):
            merged = _same_rank(merged)  # checked on every call: ranks may change
        try:
            return self._merge_function(merged)
        except RuntimeError:
            # Built for other shapes: say which shapes do not fit, if they do not.
            self._check_shapes(self._shape_list(shapes_of(inputs)))
            raise

    def compute_output_spec(self, inputs, *args, **kwargs):
        """The output KerasTensor: Keras's output shape, and the dtype and mask of
        a run of ``call`` on stand-ins whose unknown sizes fit each other."""
        if not self.built:
            self._build_for(inputs)
        shapes = shapes_of(inputs)
        output_shape = self.compute_output_shape(shapes)
        probes = [
            _with_shape(x, shape)
            for x, shape in zip(inputs, self._probe_shapes(shapes))
        ]
        output = infer_symbolic_outputs(self, (probes, *args), kwargs)
        return _with_shape(output, output_shape, relax=True)

    def _symbolic_call(self, args, kwargs):
        outputs = self.compute_output_spec(*args, **kwargs)
        Node(self, args, kwargs, outputs)
        return outputs

    # ----------------------------------------------------------- masks
    def _mask_list(self, inputs, mask):
        if not isinstance(mask, (list, tuple)):
            raise ValueError(
                f"{describe(self)}: `mask` must be a list with one mask (or None) "
                f"per input; got mask={mask!r}."
            )
        if not isinstance(inputs, (list, tuple)) or len(mask) != len(inputs):
            count = len(inputs) if isinstance(inputs, (list, tuple)) else "one"
            raise ValueError(
                f"{describe(self)}: `mask` must hold one entry per input; got "
                f"{len(mask)} masks for {count} inputs."
            )
        return list(mask)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        masks = self._mask_list(inputs, mask)
        if any(m is None for m in masks):
            return None
        output = masks[0]
        for m in masks[1:]:
            output = torch.logical_or(output, m)
        return output

    def _merge_skipping_masked(self, op, inputs):
        """Fold ``op`` over ``inputs``, where a masked entry of one input takes
        the other's value (so it cannot win a Maximum); the output is masked
        where every input is (Keras's Maximum and Minimum)."""
        output = output_mask = None
        for x in inputs:
            mask = expanded_mask(x)
            if output is None:
                output, output_mask = x, mask
                continue
            if mask is not None:
                x = torch.where(mask, x, output)
            if output_mask is not None:
                output = torch.where(output_mask, output, x)
            both = mask is not None and output_mask is not None
            output_mask = torch.logical_or(output_mask, mask) if both else None
            output = op(output, x)
        if output_mask is not None:
            output._keras_mask = output_mask.any(dim=-1)
        return output

    def get_config(self):
        return super().get_config()


# ----------------------------------------------------------------- helpers
def _batch_sizes(shapes) -> set:
    """The known batch sizes (a batch of one does not broadcast here)."""
    return {s[0] for s in shapes if s} - {None}


def _batch_size(shapes):
    sizes = _batch_sizes(shapes)
    return sizes.pop() if len(sizes) == 1 else None


def expanded_mask(x):
    """``x``'s mask with a last axis added and broadcast to ``x``'s shape."""
    mask = getattr(x, "_keras_mask", None)
    if mask is None:
        return None
    return mask.unsqueeze(-1).expand(x.shape)


def _autocast(inputs, dtype: torch.dtype) -> list:
    """Floating inputs in the compute dtype, as Keras casts each input of a list
    (the Layer's own casting covers one tensor input)."""
    return [
        _cast_keeping_mask(x, dtype)
        if isinstance(x, torch.Tensor) and x.is_floating_point() and x.dtype != dtype
        else x
        for x in inputs
    ]


def _same_rank(inputs) -> list:
    """Inputs of lower rank with size-1 axes inserted after the batch axis."""
    rank = max(x.ndim for x in inputs)
    return [
        x
        if x.ndim == rank
        else x.reshape(x.shape[0], *(1,) * (rank - x.ndim), *x.shape[1:])
        for x in inputs
    ]


def _with_shape(x, shape: tuple, relax: bool = False):
    """A KerasTensor like ``x`` with ``shape`` (its mask's shape follows: the
    leading axes of ``shape``). ``relax`` only turns known sizes unknown."""
    if not isinstance(x, KerasTensor) or x.shape == tuple(shape):
        return x
    result = KerasTensor(shape, dtype=x.dtype)
    mask = x._keras_mask
    if mask is not None:
        mask_shape = tuple(
            None if relax and shape[i] is None else (shape[i] if d is None else d)
            for i, d in enumerate(mask.shape)
        )
        result._keras_mask = KerasTensor(mask_shape, dtype=mask.dtype)
    return result
