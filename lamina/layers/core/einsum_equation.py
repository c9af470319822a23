"""The shape arithmetic of ``EinsumDense``: what an equation such as
``"abc,cde->abde"`` makes of an input shape (Keras 3's rules, written anew).

An equation is ``I,W->O`` (input, weight, output letters), ``...I,W->...O`` (the
ellipsis stands for the leading input axes, the batch first) or ``I...,W->O...``
(it stands for the trailing ones). The user's ``output_shape`` gives the output
sizes after the batch axis (and outside the ellipsis); the batch size is
prepended, as Keras does. Each weight letter takes its size from the output
(where it appears there) or else from the input; ``bias_axes`` picks output
letters, and the bias spans the output from the first of them to the end
(``1`` on the letters it skips, and on right-elided axes). An output size given
as None is the input's size of that letter (Keras's ``compute_output_shape``
leaves it None; lamina's agrees with what the layer computes).

``linear_plan`` recognizes the equations that are one matrix product over the
trailing axes (``...fc,co->...fo``: free, contracted, output letters in order),
which ``EinsumDense`` runs as ``F.linear`` on reshaped views, bias fused.

Example:
>>> spec = analyze("abc,cde->abde", "de", (None, 7, 16), (None, 4, 8))
>>> spec.kernel_shape, spec.bias_shape, spec.output_shape
((16, 4, 8), (4, 8), (None, 7, 4, 8))
>>> spec.input_axes, spec.output_axes
((0,), (1, 2))
>>> linear_plan("abc,cde->abde", spec)
LinearPlan(contracted=1, produced=(4, 8), matrix=(16, 32), fused_bias=True, full_bias=True)
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from lamina.utils.validation import describe

_FORMS = (
    # (pattern, ellipsis side); letters only, the whole string
    (re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)"), None),
    (re.compile(r"\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)"), "left"),
    (re.compile(r"([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\."), "right"),
)
FORMS_TEXT = "'I,W->O', '...I,W->...O' or 'I...,W->O...' (I, W, O letters)"


class EinsumSpec(NamedTuple):
    input_letters: str
    weight_letters: str
    output_letters: str
    ellipsis: str | None  # None, "left" or "right"
    kernel_shape: tuple
    bias_shape: tuple | None
    output_shape: tuple  # the whole output shape, batch first
    input_axes: tuple  # kernel axes counted in fan_in
    output_axes: tuple  # kernel axes counted in fan_out


class LinearPlan(NamedTuple):
    contracted: int  # trailing input axes summed over (leading kernel axes)
    produced: tuple  # sizes of the trailing output axes, from the kernel
    matrix: tuple  # the kernel as a matrix: (contracted size, produced size)
    fused_bias: bool  # the bias lies on the produced axes only (F.linear adds it)
    full_bias: bool  # ... and has their shape (no broadcasting to flatten)


def parse(owner, equation) -> tuple[str, str, str, str | None]:
    """``(input, weight, output, ellipsis)`` letters of ``equation``."""
    if isinstance(equation, str):
        for pattern, ellipsis in _FORMS:
            match = pattern.fullmatch(equation.replace(" ", ""))
            if match:
                return (*match.groups(), ellipsis)
    raise ValueError(
        f"{describe(owner)}: `equation` must be of the form {FORMS_TEXT}; "
        f"got equation={equation!r}."
    )


def check_equation(owner, equation, bias_axes) -> None:
    """Construction-time checks: letters that come from nowhere, bias letters
    outside the output."""
    inputs, weights, outputs, _ = parse(owner, equation)
    for letter in outputs:
        if letter not in inputs and letter not in weights:
            raise ValueError(
                f"{describe(owner)}: output letter '{letter}' of `equation` must "
                f"appear in the input '{inputs}' or the weight '{weights}'; got "
                f"equation={equation!r}."
            )
    for letter in weights:
        if letter not in inputs and letter not in outputs:
            raise ValueError(
                f"{describe(owner)}: weight letter '{letter}' of `equation` must "
                f"appear in the input '{inputs}' or the output '{outputs}' (its "
                f"size comes from there); got equation={equation!r}."
            )
    if bias_axes is not None:
        if not isinstance(bias_axes, str) or not bias_axes:
            raise ValueError(
                f"{describe(owner)}: `bias_axes` must be None or a string of "
                f"output letters; got bias_axes={bias_axes!r}."
            )
        for letter in bias_axes:
            if letter not in outputs:
                raise ValueError(
                    f"{describe(owner)}: `bias_axes` must be letters of the "
                    f"output '{outputs}' of the equation; got bias_axes="
                    f"{bias_axes!r}."
                )


def analyze(equation, bias_axes, input_shape, output_shape, owner="EinsumDense"):
    """The kernel, bias and output shapes of ``equation`` for ``input_shape``
    (sizes or None) and the user's partial ``output_shape``."""
    inputs, weights, outputs, ellipsis = parse(owner, equation)
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(inputs)
    if elided < 0 or (elided and ellipsis is None):
        raise ValueError(
            f"{describe(owner)}: the equation {equation!r} takes inputs of rank "
            f"{len(inputs)}{' or more' if ellipsis else ''}; got input shape "
            f"{input_shape}."
        )
    full = _full_output_shape(input_shape, output_shape, ellipsis, elided)
    if len(full) != len(outputs) + elided:
        raise ValueError(
            f"{describe(owner)}: `output_shape` must give the output sizes after "
            f"the batch axis ({len(outputs) + elided - 1} for the equation "
            f"{equation!r} and input shape {input_shape}); got output_shape="
            f"{tuple(output_shape)!r}."
        )
    shift = elided if ellipsis == "left" else 0
    in_size = {c: input_shape[i + shift] for i, c in enumerate(inputs)}
    for i, letter in enumerate(outputs):
        size = in_size.get(letter)
        if letter in in_size and full[i + shift] not in (None, size):
            raise ValueError(
                f"{describe(owner)}: the input and `output_shape` disagree on axis "
                f"'{letter}' of the equation {equation!r}: {size} in the input "
                f"shape {input_shape}, {full[i + shift]} in the output "
                f"{tuple(full)}."
            )
        if full[i + shift] is None:  # Keras leaves None; the input knows
            full[i + shift] = size
    out_size = {c: full[i + shift] for i, c in enumerate(outputs)}
    kernel, input_axes, output_axes = [], [], []
    for i, letter in enumerate(weights):
        size = out_size[letter] if letter in out_size else in_size[letter]
        (output_axes if letter in out_size else input_axes).append(i)
        if size is None:
            raise ValueError(
                f"{describe(owner)}: the size of weight axis '{letter}' of the "
                f"equation {equation!r} must be known; set it in `output_shape` "
                f"or in the input shape {input_shape}."
            )
        kernel.append(size)
    bias = _bias_shape(bias_axes, outputs, out_size, ellipsis, elided)
    return EinsumSpec(
        inputs,
        weights,
        outputs,
        ellipsis,
        tuple(kernel),
        bias,
        tuple(full),
        tuple(input_axes),
        tuple(output_axes),
    )


def _full_output_shape(input_shape, output_shape, ellipsis, elided) -> list:
    partial = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    if ellipsis == "left":  # the ellipsis holds the batch axis
        return [*input_shape[:elided], *partial]
    return [input_shape[0], *partial, *input_shape[len(input_shape) - elided :]]


def _bias_shape(bias_axes, outputs, out_size, ellipsis, elided):
    if bias_axes is None:
        return None
    first = min(outputs.index(letter) for letter in bias_axes)
    shape = [out_size[c] if c in bias_axes else 1 for c in outputs[first:]]
    if ellipsis == "right":
        shape += [1] * elided
    return tuple(shape)


def linear_plan(equation, spec: EinsumSpec) -> LinearPlan | None:
    """A plan when ``equation`` is ``...FC,CO->...FO`` (letters in that order, no
    letter in all three parts), else None."""
    inputs, weights = spec.input_letters, spec.weight_letters
    outputs = spec.output_letters
    if spec.ellipsis == "right" or any(c in inputs and c in outputs for c in weights):
        return None
    contracted = [c for c in inputs if c in weights]
    free = [c for c in inputs if c in outputs]
    produced = [c for c in weights if c in outputs]
    if (
        not contracted
        or not produced
        or len(contracted) + len(free) != len(inputs)
        or inputs != "".join(free + contracted)
        or weights != "".join(contracted + produced)
        or outputs != "".join(free + produced)
    ):
        return None
    sizes = spec.kernel_shape[len(contracted) :]
    matrix = (math.prod(spec.kernel_shape[: len(contracted)]), math.prod(sizes))
    bias = spec.bias_shape
    fused = bias is None or len(bias) <= len(produced)
    return LinearPlan(len(contracted), sizes, matrix, fused, bias == sizes)
