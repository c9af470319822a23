"""The one docstring filler of the layers, and the argument paragraphs they share.

A public class's docstring names a paragraph on a line of its own
(``{data_format}``); ``fill_docs`` replaces that line by the paragraph, indented
like the placeholder, with ``{rank}`` in it replaced by the rank in the class name
(``Conv2D``: 2). A family passes its own paragraphs (``fill_docs(ARGS)``), which
are looked up before the shared ones below, so it can also reword one of them.
"""

from __future__ import annotations

import re

ARGS = {
    "filters": """filters: int, the number of output channels.""",
    "kernel_size": """kernel_size: int or tuple of {rank} ints, the window size.""",
    "strides": """strides: int or tuple of {rank} ints, the step between windows
    (default 1).""",
    "padding": """padding: ``"valid"`` (no padding) or ``"same"`` (zeros so that
    ``output = ceil(input / strides)``; an odd total puts the extra zero at the
    end, as TensorFlow does). Case-insensitive.""",
    "data_format": """data_format: ``"channels_last"`` (channels on the last axis) or
    ``"channels_first"``. Default: ``keras.config.image_data_format()``.""",
    "activation": """activation: name or function applied to the output (default:
    none).""",
    "use_bias": """use_bias: whether to add a ``bias`` vector (default True).""",
    "kernel_args": """kernel_initializer, bias_initializer: default
    ``"glorot_uniform"``, ``"zeros"``.
kernel_regularizer, bias_regularizer, activity_regularizer: optional.
kernel_constraint, bias_constraint: optional, applied after updates.""",
    "kwargs": """**kwargs: ``name``, ``dtype``, ``trainable``, ... (see ``Layer``).""",
}

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill_docs(family: dict | None = None):
    """A class decorator filling the placeholder lines of the class's docstring
    from ``family`` (first) and ``ARGS``. A placeholder found in neither raises
    ``KeyError`` when the class is defined, so a misspelt one cannot ship.

    Example:
    >>> @fill_docs({"size": "size: int or tuple of {rank} ints."})
    ... class Window2D:
    ...     '''A window.
    ...
    ...     Args:
    ...         {size}
    ...         {kwargs}
    ...     '''
    >>> print(Window2D.__doc__)
    A window.
    <BLANKLINE>
        Args:
            size: int or tuple of 2 ints.
            **kwargs: ``name``, ``dtype``, ``trainable``, ... (see ``Layer``).
    >>> fill_docs()(type("Typo1D", (), {"__doc__": "{kwarg}"}))
    Traceback (most recent call last):
    KeyError: 'kwarg'
    """
    paragraphs = {**ARGS, **(family or {})}

    def decorate(cls):
        if cls.__doc__:  # None under ``python -OO``
            rank = next((c for c in cls.__name__ if c.isdigit()), None)
            cls.__doc__ = _filled(cls.__doc__, paragraphs, rank)
        return cls

    return decorate


def _filled(doc: str, paragraphs: dict, rank: str | None) -> str:
    lines = []
    for line in doc.splitlines():
        placeholder = _PLACEHOLDER.fullmatch(line.strip())
        if placeholder is None:
            lines.append(line)
            continue
        text = paragraphs[placeholder[1]]
        if rank is not None:
            # "tuple of 1 int", not "tuple of 1 ints"
            text = text.replace(
                "{rank} ints", "1 int" if rank == "1" else f"{rank} ints"
            )
            text = text.replace("{rank}", rank)
        indent = line[: len(line) - len(line.lstrip())]
        lines += [indent + text_line for text_line in text.splitlines()]
    return "\n".join(lines)
