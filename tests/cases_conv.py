"""Convolution layers against Keras 3, and their argument errors.

A pruned product: for every layer and rank, the arithmetic that differs (strides
on odd and even sizes, so ``same`` pads symmetrically or with an extra zero at the
end; even and odd kernels; dilation; groups; depth multipliers; output_padding;
causal) in both data formats, plus one case each for activation, initializers,
regularizers and constraints. Inputs are small:
the oracle compares outputs, input and weight gradients within 1e-5.
"""

from __future__ import annotations

from tests.oracle import Case, ErrorCase

SPATIAL = {1: (9,), 2: (7, 8), 3: (5, 6, 4)}  # odd and even sizes on every rank


def _shape(rank, channels, data_format="channels_last"):
    if data_format == "channels_first":
        return (2, channels, *SPATIAL[rank])
    return (2, *SPATIAL[rank], channels)


# 3D runs the same per-axis arithmetic as 1D and 2D through the same code (only
# the op table entry differs), so it gets the variants that change the shapes.
RANK3_VARIANTS = {"valid", "same-s2", "same-s2-odd-k", "outpad-same", "tuple-args"}


def _cases(layer, rank, variants, channels=4, base=None):
    """One Case per ``(id, kwargs[, "both"])`` variant, in both data formats when
    it says ``both``."""
    cases = []
    for variant in variants:
        name, kwargs, *rest = variant
        if rank == 3 and name not in RANK3_VARIANTS:
            continue
        formats = ("channels_last", "channels_first") if "both" in rest else ("",)
        for data_format in formats:
            full = {**(base or {}), **kwargs}
            suffix = ""
            if data_format:
                full["data_format"] = data_format
                suffix = "-cf" if data_format == "channels_first" else "-cl"
            cases.append(
                Case(
                    layer,
                    full,
                    _shape(rank, channels, data_format or "channels_last"),
                    id=f"{layer}-{name}{suffix}",
                )
            )
    return cases


EXTRAS = [
    ("relu-l2", {"activation": "relu", "kernel_regularizer": "l2"}),
    (
        "init-constraints",
        {
            "kernel_initializer": "he_normal",
            "bias_initializer": "ones",
            "kernel_constraint": "max_norm",
            "bias_constraint": "non_neg",
            "bias_regularizer": "l1",
            "activity_regularizer": {"class_name": "L1", "config": {"l1": 0.1}},
        },
    ),
]


def _conv_variants(rank):
    variants = [
        ("valid", {"kernel_size": 3}, "both"),
        ("same-s2", {"kernel_size": 3, "strides": 2, "padding": "same"}, "both"),
        ("same-even-k", {"kernel_size": 2, "padding": "same"}, "both"),
        ("same-k4-s3", {"kernel_size": 4, "strides": 3, "padding": "SAME"}),
        ("valid-s2", {"kernel_size": 2, "strides": 2}),
        ("dilated", {"kernel_size": 2, "dilation_rate": 2, "padding": "same"}, "both"),
        ("groups", {"kernel_size": 3, "groups": 2, "filters": 6}, "both"),
        ("nobias", {"kernel_size": 1, "use_bias": False}),
        *[(name, {"kernel_size": 2, **kw}) for name, kw in EXTRAS],
    ]
    if rank > 1:
        uneven = tuple(range(1, rank + 1))
        variants += [
            ("tuple-args", {"kernel_size": uneven[::-1], "strides": uneven}, "both"),
            (
                "same-uneven-strides",
                {"kernel_size": 3, "strides": uneven, "padding": "same"},
            ),
        ]
    else:
        variants += [
            ("causal", {"kernel_size": 3, "padding": "causal"}, "both"),
            (
                "causal-dilated",
                {"kernel_size": 2, "padding": "causal", "dilation_rate": 3},
            ),
            ("causal-s2", {"kernel_size": 3, "padding": "causal", "strides": 2}),
        ]
    return variants


def _transpose_variants(rank):
    variants = [
        ("valid", {"kernel_size": 3}, "both"),
        ("valid-s2", {"kernel_size": 3, "strides": 2}, "both"),
        ("valid-k-lt-s", {"kernel_size": 2, "strides": 3}),
        ("same-s2-odd-k", {"kernel_size": 3, "strides": 2, "padding": "same"}, "both"),
        ("same-s2-even-k", {"kernel_size": 4, "strides": 2, "padding": "same"}),
        ("same-s1-even-k", {"kernel_size": 2, "padding": "same"}, "both"),
        ("same-s3-k5", {"kernel_size": 5, "strides": 3, "padding": "same"}),
        ("same-k1-s2", {"kernel_size": 1, "strides": 2, "padding": "same"}),
        ("outpad-valid", {"kernel_size": 3, "strides": 2, "output_padding": 1}),
        (
            "outpad-same",
            {"kernel_size": 3, "strides": 3, "padding": "same", "output_padding": 2},
            "both",
        ),
        (
            "outpad-same-even",
            {"kernel_size": 4, "strides": 2, "padding": "same", "output_padding": 0},
        ),
        ("dilated", {"kernel_size": 3, "dilation_rate": 2, "padding": "same"}, "both"),
        ("dilated-valid", {"kernel_size": 2, "dilation_rate": 2}),
        ("nobias", {"kernel_size": 2, "use_bias": False}),
        *[(name, {"kernel_size": 2, **kw}) for name, kw in EXTRAS],
    ]
    if rank > 1:
        uneven = tuple(range(1, rank + 1))
        variants.append(
            (
                "tuple-args",
                {"kernel_size": uneven[::-1], "strides": uneven, "padding": "same"},
                "both",
            )
        )
    return variants


def _depthwise_variants(rank):
    variants = [
        ("valid", {"kernel_size": 3}, "both"),
        ("same-s2", {"kernel_size": 3, "strides": 2, "padding": "same"}, "both"),
        (
            "multiplier",
            {"kernel_size": 2, "depth_multiplier": 3, "padding": "same"},
            "both",
        ),
        ("dilated", {"kernel_size": 2, "dilation_rate": 2}),
        ("nobias", {"kernel_size": 3, "use_bias": False}),
        (
            "extras",
            {
                "kernel_size": 2,
                "activation": "tanh",
                "depthwise_initializer": "he_uniform",
                "depthwise_regularizer": "l2",
                "depthwise_constraint": "unit_norm",
                "bias_regularizer": "l1",
                "activity_regularizer": "l2",
            },
        ),
    ]
    if rank > 1:
        variants.append(
            ("uneven-strides", {"kernel_size": (3, 2), "strides": (1, 2)}, "both")
        )
    return variants


def _separable_variants(rank):
    variants = [
        ("valid", {"kernel_size": 3}, "both"),
        ("same-s2", {"kernel_size": 3, "strides": 2, "padding": "same"}, "both"),
        ("multiplier", {"kernel_size": 2, "depth_multiplier": 2}, "both"),
        ("dilated", {"kernel_size": 2, "dilation_rate": 2, "padding": "same"}),
        ("nobias", {"kernel_size": 3, "use_bias": False}),
        (
            "extras",
            {
                "kernel_size": 2,
                "activation": "relu",
                "pointwise_initializer": "he_normal",
                "depthwise_regularizer": "l2",
                "pointwise_regularizer": "l1",
                "pointwise_constraint": "non_neg",
                "activity_regularizer": "l2",
            },
        ),
    ]
    if rank > 1:
        variants.append(("uneven-strides", {"kernel_size": 3, "strides": (2, 1)}))
    return variants


CASES = [
    *[
        case
        for rank in (1, 2, 3)
        for case in _cases(
            f"Conv{rank}D", rank, _conv_variants(rank), base={"filters": 4}
        )
    ],
    *[
        case
        for rank in (1, 2, 3)
        for case in _cases(
            f"Conv{rank}DTranspose",
            rank,
            _transpose_variants(rank),
            channels=3,
            base={"filters": 2},
        )
    ],
    *[
        case
        for rank in (1, 2)
        for case in _cases(
            f"DepthwiseConv{rank}D", rank, _depthwise_variants(rank), channels=3
        )
    ],
    *[
        case
        for rank in (1, 2)
        for case in _cases(
            f"SeparableConv{rank}D",
            rank,
            _separable_variants(rank),
            channels=3,
            base={"filters": 4},
        )
    ],
    # Keras's aliases: the same classes under their other names.
    *[
        Case(alias, {"filters": 2, "kernel_size": 2}, _shape(rank, 3), id=alias)
        for rank in (1, 2, 3)
        for alias in (f"Convolution{rank}D", f"Convolution{rank}DTranspose")
    ],
    *[
        Case(
            f"SeparableConvolution{rank}D",
            {"filters": 2, "kernel_size": 2},
            _shape(rank, 3),
        )
        for rank in (1, 2)
    ],
    Case(
        "Conv2D",
        {"filters": 3, "kernel_size": 3, "dtype": "float64"},
        _shape(2, 2),
        dtype="float64",
        id="Conv2D-f64",
    ),
    # LoRA (Keras 3 has it on Conv1D/2D/3D only): lora_kernel_b starts at zero,
    # so these compare the weights, configs and b's gradient; tests/test_embedding.py
    # compares outputs with trained factors and the merged weights files.
    *[
        Case(
            f"Conv{rank}D",
            {"filters": 4, "kernel_size": 2, "lora_rank": 2, **kwargs},
            _shape(rank, 2),
            id=f"Conv{rank}D-lora",
        )
        for rank, kwargs in (
            (1, {"padding": "causal"}),
            (2, {"groups": 2, "lora_alpha": 3}),
            (3, {}),
        )
    ],
]


def _errors(layer, base, rank):
    spatial_args = [
        (
            {"kernel_size": 0},
            r"`kernel_size` must be an int or a tuple of \d ints, each >= 1; got kernel_size=0\.",
        ),
        (
            {"kernel_size": (3,) * (rank + 1)},
            rf"`kernel_size` must be an int or a tuple of {rank} ints; got kernel_size=\(3(, 3)*\)\.",
        ),
        (
            {"kernel_size": 3, "strides": (1,) * (rank + 1)},
            rf"`strides` must be an int or a tuple of {rank} ints; got strides=",
        ),
        (
            {"kernel_size": 3, "strides": -1},
            r"`strides` must be an int or a tuple of \d ints, each >= 1; got strides=-1\.",
        ),
        (
            {"kernel_size": 3, "dilation_rate": 0},
            r"`dilation_rate` must be .* each >= 1; got dilation_rate=0\.",
        ),
        (
            {"kernel_size": 3, "padding": "full"},
            r"`padding` must be one of 'valid', 'same'; got padding='full'\.",
        ),
        (
            {"kernel_size": 3, "data_format": "nhwc"},
            r"`data_format` must be one of 'channels_last', 'channels_first'; got data_format='nhwc'\.",
        ),
    ]
    return [
        ErrorCase(
            layer,
            {**base, **kwargs},
            f"^{layer} '[a-z0-9_]+': {match}",
            id=f"{layer}-{i}",
        )
        for i, (kwargs, match) in enumerate(spatial_args)
    ]


ERROR_CASES = [
    ErrorCase(
        "Conv2D",
        {"filters": 2, "kernel_size": 3, "lora_rank": 0},
        r"`lora_rank` must be an integer >= 1; got lora_rank=0\.",
        keras_raises=False,  # Keras reads lora_rank=0 as "no LoRA"
    ),
    *[e for rank in (2, 3) for e in _errors(f"Conv{rank}D", {"filters": 2}, rank)],
    *_errors("Conv1DTranspose", {"filters": 2}, 1),
    *_errors("DepthwiseConv2D", {}, 2),
    *_errors("SeparableConv1D", {"filters": 2}, 1),
    ErrorCase(
        "Conv2D",
        {"filters": 0, "kernel_size": 3},
        r"`filters` must be an integer >= 1; got filters=0\.",
    ),
    ErrorCase(
        "Conv2D",
        {"filters": 2.5, "kernel_size": 3},
        r"`filters` must be an integer >= 1; got filters=2\.5\.",
    ),
    ErrorCase(
        "Conv2D",
        {"filters": 6, "kernel_size": 3, "groups": 4},
        r"`filters` must be divisible by `groups`=4; got filters=6\.",
    ),
    ErrorCase(
        "Conv1D",
        {"filters": 6, "kernel_size": 3, "groups": 0},
        r"`groups` must be an integer >= 1; got groups=0\.",
    ),
    ErrorCase(
        "Conv2D",
        {"filters": 2, "kernel_size": 3, "padding": "causal"},
        r"`padding` must be one of 'valid', 'same'; got padding='causal'\.",
    ),
    ErrorCase(
        "Conv3D",
        {"filters": 2, "kernel_size": 3, "padding": "causal"},
        r"`padding` must be one of 'valid', 'same'; got padding='causal'\.",
    ),
    ErrorCase(
        "SeparableConv1D",
        {"filters": 2, "kernel_size": 3, "padding": "causal"},
        r"`padding` must be one of 'valid', 'same'; got padding='causal'\.",
    ),
    ErrorCase(
        "Conv1DTranspose",
        {"filters": 2, "kernel_size": 3, "padding": "causal"},
        r"`padding` must be one of 'valid', 'same'; got padding='causal'\.",
    ),
    ErrorCase(
        "DepthwiseConv2D",
        {"kernel_size": 3, "depth_multiplier": 0},
        r"`depth_multiplier` must be an integer >= 1; got depth_multiplier=0\.",
    ),
    ErrorCase(
        "SeparableConv2D",
        {"filters": 2, "kernel_size": 3, "depth_multiplier": -2},
        r"`depth_multiplier` must be an integer >= 1; got depth_multiplier=-2\.",
    ),
    ErrorCase(
        "Conv2DTranspose",
        {"filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 2},
        r"`output_padding` must be less than `strides`=\(2, 2\) on every axis; got output_padding=2\.",
    ),
    ErrorCase(
        "Conv2DTranspose",
        {"filters": 2, "kernel_size": 3, "strides": (2, 3), "output_padding": (1, 3)},
        r"`output_padding` must be less than `strides`=\(2, 3\) on every axis; got output_padding=\(1, 3\)\.",
    ),
    ErrorCase(
        "Conv3DTranspose",
        {"filters": 2, "kernel_size": 3, "output_padding": (0, 0)},
        r"`output_padding` must be an int or a tuple of 3 ints; got output_padding=\(0, 0\)\.",
    ),
    ErrorCase(
        "Conv1DTranspose",
        {"filters": 2, "kernel_size": 3, "output_padding": -1},
        r"`output_padding` must be an int or a tuple of 1 ints, each >= 0; got output_padding=-1\.",
    ),
    # At build: the input shape is named.
    ErrorCase(
        "Conv2D",
        {"filters": 4, "kernel_size": 3, "groups": 2},
        r"Conv2D '[a-z0-9_]+': expected input channels divisible by `groups`=2, got shape \(2, 8, 8, 3\)\.",
        inputs=(2, 8, 8, 3),
    ),
    ErrorCase(
        "Conv2D",
        {"filters": 4, "kernel_size": 3},
        r"Conv2D '[a-z0-9_]+': expected input of rank 4 \(batch, rows, cols, channels\), got shape \(2, 8, 3\)\.",
        inputs=(2, 8, 3),
    ),
    ErrorCase(
        "Conv1D",
        {"filters": 4, "kernel_size": 3, "data_format": "channels_first"},
        r"expected input of rank 3 \(batch, channels, steps\), got shape \(2, 3, 8, 8\)\.",
        inputs=(2, 3, 8, 8),
    ),
    ErrorCase(
        "Conv2D",
        {"filters": 4, "kernel_size": 5},
        r"expected an input large enough for kernel_size=\(5, 5\), dilation_rate=\(1, 1\), padding='valid' \(the output shape would be \(2, 0, 4, 4\)\), got shape \(2, 4, 8, 3\)\.",
        inputs=(2, 4, 8, 3),
    ),
    ErrorCase(
        "DepthwiseConv1D",
        {"kernel_size": 3, "dilation_rate": 4},
        r"expected an input large enough .* got shape \(2, 8, 3\)\.",
        inputs=(2, 8, 3),
    ),
]
