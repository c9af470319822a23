"""Where an EinsumDense's int8 scales live: Keras 3's layout, derived from the
equation.

A per-channel scale is the abs-max over the *reduced* letters (those missing
from the output) of the input or the kernel. Keras stores the kernel's scale
arranged like the output: its axes transposed into output order, size-1 axes
added for output letters the operand lacks, reduced axes squeezed when no such
place is left. The same arrangement is applied to each call's input scale, so
``product / (input_scale * kernel_scale)`` broadcasts. Files interoperate only
if this arrangement is Keras's exactly, hence the literal rules below.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ScaleLayout:
    """How one operand's keep-dims scale is arranged to broadcast on the output."""

    reduced: tuple[int, ...]  # operand axes reduced by the quantizer
    transpose: tuple[int, ...]
    expand: tuple[int, ...]
    squeeze: tuple[int, ...]

    def for_output(self, scale: torch.Tensor) -> torch.Tensor:
        """The keep-dims scale (operand layout) -> Keras's stored layout."""
        if self.transpose:
            scale = scale.permute(self.transpose)
        for axis in sorted(self.expand):
            scale = scale.unsqueeze(axis)
        if self.squeeze:
            scale = scale.squeeze(self.squeeze)
        return scale

    def for_operand(self, scale: torch.Tensor) -> torch.Tensor:
        """The stored layout -> the keep-dims scale in the operand's layout."""
        for axis in sorted(self.squeeze):
            scale = scale.unsqueeze(axis)
        if self.expand:
            scale = scale.squeeze(self.expand)
        if self.transpose:
            inverse = sorted(range(len(self.transpose)), key=self.transpose.__getitem__)
            scale = scale.permute(inverse)
        return scale


@dataclass(frozen=True)
class EinsumQuantization:
    inputs: ScaleLayout
    kernel: ScaleLayout
    gradient_equation: str  # output, kernel -> input: the input gradient


def _specs(equation: str, input_ndim: int) -> tuple[str, str, str]:
    """The three letter strings with the ellipsis spelt out (Keras's letters)."""
    plain = equation.replace("...", "0")
    for pattern, left in (
        ("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", None),
        ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", True),
        ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", False),
    ):
        match = re.fullmatch(pattern, plain)
        if match is None:
            continue
        inputs, kernel, output = match.groups()
        if left is not None:
            free = sorted(set(string.ascii_letters) - set(inputs + kernel + output))
            extra = "".join(free[: input_ndim - len(inputs)])
            inputs, output = (
                (extra + inputs, extra + output)
                if left
                else (inputs + extra, output + extra)
            )
        return inputs, kernel, output
    raise ValueError(f"EinsumDense: cannot quantize equation {equation!r}.")


def _layout(operand: str, output: str) -> ScaleLayout:
    reduced = [i for i, c in enumerate(operand) if c not in output]
    expand = [i for i, c in enumerate(output) if c not in operand]
    transpose = [operand.index(c) for c in output if c in operand]
    squeeze = []
    index = None
    for axis in reduced:  # Keras's rule, literally (the squeeze case reuses index)
        if expand:
            index = expand.pop(0)
        else:
            squeeze.append(axis)
        if index is None:
            raise ValueError(
                f"EinsumDense: cannot place the int8 scale of {operand!r} on the "
                f"output {output!r} (Keras cannot either)."
            )
        transpose.insert(index, axis)
    return ScaleLayout(tuple(reduced), tuple(transpose), tuple(expand), tuple(squeeze))


def analyze(equation: str, input_ndim: int) -> EinsumQuantization:
    """The input and kernel scale layouts of ``equation`` for an input of rank
    ``input_ndim``, and the equation of the straight-through input gradient."""
    inputs, kernel, output = _specs(equation, input_ndim)
    return EinsumQuantization(
        inputs=_layout(inputs, output),
        kernel=_layout(kernel, output),
        gradient_equation=f"{output},{kernel}->{inputs}",
    )
