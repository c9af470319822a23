"""``export_model``: ``Model.export(filepath, format=...)``."""

from __future__ import annotations

from lamina.export import exporters
from lamina.export.archive import _write_onnx
from lamina.utils.validation import describe


def export_model(
    model, filepath, format="onnx", verbose=None, input_signature=None, **kwargs
):
    """Write ``model``'s inference function (``training=False``) to ``filepath``.

    Args:
        model: a built ``Model`` or ``Layer``.
        filepath: the file to write (``.onnx`` or ``.pt2``).
        format: ``"onnx"`` (torch's ONNX exporter; opset ``opset_version``,
            default 18, recorded in the file's metadata) or ``"torch"`` (a
            ``torch.export`` program, loaded back by ``torch.export.load``).
            TensorFlow's formats are refused with the alternatives named.
        verbose: print where the file went.
        input_signature: the inputs' specs (``InputSpec``/``KerasTensor``/shapes)
            when the model has no ``inputs``.
        **kwargs: ``opset_version`` for ONNX.

    The batch axis is dynamic in both formats (a ``torch`` program may require
    a batch of at least 2 where torch's kernels guard on it; ONNX runs any).

    Raises:
        ValueError: for an unknown format, a signature with unknown non-batch
            sizes, or an op torch cannot export (naming the layer and the op).
    """
    owner = f"{describe(model)}.export()"
    format = exporters.check_format(owner, format)
    opset = kwargs.pop("opset_version", None)
    if kwargs:
        given = ", ".join(sorted(kwargs))
        raise TypeError(f"{owner}: unexpected keyword arguments: {given}.")
    structure, specs = exporters.model_signature(model, input_signature)
    program = exporters.trace(
        model, lambda x: model(x, training=False), structure, specs, owner
    )
    if format == "torch":
        exporters.save_program(program, str(filepath))
    else:
        _write_onnx(exporters.to_onnx(program, owner, opset), str(filepath))
    if verbose or verbose is None:
        print(f"Saved {format} export of {describe(model)} at '{filepath}'.")
    return program
