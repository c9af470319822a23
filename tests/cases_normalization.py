"""Normalization layers against Keras 3: every argument that changes the arithmetic
(axes, layouts, center/scale, groups, rms_scaling, momentum, renorm, masks, mixed
precision), a training call comparing the moving statistics after one step, the
frozen BatchNormalization (inference under ``training=True``), and pinned errors.

Where Keras 3's torch backend is wrong (LayerNormalization and RMSNormalization
over leading axes), tests/test_normalization.py checks NumPy references instead.
"""

from __future__ import annotations

from tests.oracle import Case, ErrorCase, Input

TRAIN = {"training": True}
# Non-trivial moving statistics and weights, so inference computes something.
STATS = {
    "moving_mean_initializer": "random_normal",
    "moving_variance_initializer": {
        "class_name": "RandomUniform",
        "config": {"minval": 0.5, "maxval": 2.0},
    },
    "gamma_initializer": {
        "class_name": "RandomUniform",
        "config": {"minval": 0.5, "maxval": 1.5},
    },
    "beta_initializer": "random_normal",
}
SEQUENCE_MASK = {"mask": Input((3, 5), "bool")}


def _bn(kwargs, inputs, id, **extra):
    return Case(
        "BatchNormalization",
        {**STATS, **kwargs},
        inputs,
        train_call=True,
        id=f"BatchNormalization-{id}",
        **extra,
    )


CASES = [
    # BatchNormalization: inference, then one training step and its statistics.
    Case("BatchNormalization", {}, (4, 3), train_call=True),
    _bn({"momentum": 0.9}, (3, 4, 5, 6), "nhwc"),
    _bn({"axis": 1}, (3, 4, 5, 6), "nchw"),
    _bn({}, (3, 5, 4), "rank3"),
    _bn({"axis": -1, "epsilon": 0.01}, (2, 3, 4, 3, 5), "ndhwc"),
    _bn({"axis": 1}, (2, 3, 4, 3, 2), "ncdhw"),
    _bn({"axis": 2}, (3, 4, 5, 6), "axis2"),
    _bn({"axis": -3, "momentum": 0.5}, (3, 4, 5, 6), "axis-3"),
    _bn({"center": False}, (4, 5), "no-center"),
    _bn({"scale": False, "center": False}, (3, 4, 4, 2), "no-scale-no-center"),
    _bn({}, (1, 3), "one-sample"),  # one value per channel: variance 0
    _bn({}, (3, 5, 4), "mask", call_kwargs=SEQUENCE_MASK),
    _bn(
        {"gamma_regularizer": "l2", "beta_regularizer": "l1"},
        (4, 3),
        "regularizers",
    ),
    _bn(
        {"gamma_constraint": "non_neg", "beta_constraint": "max_norm"},
        (4, 3),
        "constraints",
    ),
    _bn({"renorm": True}, (3, 4, 4, 2), "renorm"),
    _bn(
        {
            "renorm": True,
            "renorm_clipping": {"rmax": 1.2, "rmin": 0.9, "dmax": 0.1},
            "renorm_momentum": 0.8,
        },
        (6, 3),
        "renorm-clipping",
    ),
    # Frozen: inference even with training=True, statistics unchanged.
    _bn({"trainable": False}, (3, 4, 4, 2), "frozen"),
    _bn({"dtype": "mixed_bfloat16"}, (3, 4, 4, 2), "bf16", atol=3e-2),
    _bn({"dtype": "float64"}, (4, 3), "f64", dtype="float64"),
    # LayerNormalization (trailing axes: torch's kernel; others: the moments).
    Case("LayerNormalization", {}, (3, 5)),
    Case("LayerNormalization", {}, (2, 3, 4), id="LayerNormalization-rank3"),
    Case(
        "LayerNormalization",
        {"axis": [-2, -1], "gamma_initializer": "random_normal"},
        (2, 3, 4),
        id="LayerNormalization-two-axes",
    ),
    Case(
        "LayerNormalization",
        {"axis": (3, 1), "epsilon": 0.1},
        (2, 3, 4, 5),
        id="LayerNormalization-axes-1-3",
    ),
    Case(
        "LayerNormalization",
        {"center": False, "scale": False},
        (2, 3, 4),
        id="LayerNormalization-plain",
    ),
    Case(
        "LayerNormalization",
        {"rms_scaling": True, "gamma_initializer": "random_uniform"},
        (2, 3, 4),
        id="LayerNormalization-rms-scaling",
    ),
    Case(
        "LayerNormalization",
        {"gamma_regularizer": "l2", "beta_constraint": "non_neg"},
        (3, 5),
        id="LayerNormalization-options",
    ),
    Case(
        "LayerNormalization",
        {"dtype": "mixed_bfloat16"},
        (3, 5),
        atol=3e-2,
        id="LayerNormalization-bf16",
    ),
    # GroupNormalization
    Case("GroupNormalization", {"groups": 2}, (2, 4, 4, 6)),
    Case("GroupNormalization", {"groups": -1}, (2, 5, 4), id="GroupNorm-instance"),
    Case("GroupNormalization", {"groups": 1}, (2, 5, 4), id="GroupNorm-one-group"),
    Case("GroupNormalization", {"groups": 4}, (3, 8), id="GroupNorm-rank2"),
    Case(
        "GroupNormalization",
        {"groups": 3, "axis": 1, "epsilon": 0.01},
        (2, 6, 4, 3),
        id="GroupNorm-channels-first",
    ),
    Case(
        "GroupNormalization",
        {"groups": 2, "axis": 2},
        (2, 3, 4, 3),
        id="GroupNorm-axis2",
    ),
    Case(
        "GroupNormalization",
        {"groups": 2, "center": False, "scale": False},
        (2, 3, 4),
        id="GroupNorm-plain",
    ),
    Case(
        "GroupNormalization",
        {"groups": 2, "dtype": "mixed_bfloat16"},
        (2, 3, 4),
        atol=3e-2,
        id="GroupNorm-bf16",
    ),
    # UnitNormalization
    Case("UnitNormalization", {}, (2, 3, 4)),
    Case("UnitNormalization", {"axis": [1, 2]}, (2, 3, 4), id="UnitNorm-two-axes"),
    Case("UnitNormalization", {"axis": 1}, (2, 3, 4), id="UnitNorm-axis1"),
    # RMSNormalization
    Case("RMSNormalization", {}, (2, 3, 4)),
    Case("RMSNormalization", {"epsilon": 0.1}, (3, 5), id="RMSNorm-epsilon"),
    Case("RMSNormalization", {"axis": [-2, -1]}, (2, 3, 4), id="RMSNorm-two-axes"),
    # SpectralNormalization: a training call divides the kernel by sigma. The
    # wrapped layers are named: their configs are compared, and the automatic
    # names of two libraries' counters may differ.
    Case(
        "SpectralNormalization",
        inputs=(3, 4),
        build=lambda L: L.SpectralNormalization(L.Dense(5, name="inner")),
        also_covers=("Dense",),
        train_call=True,
        call_kwargs={},
    ),
    Case(
        "SpectralNormalization",
        inputs=(2, 5, 5, 2),
        build=lambda L: L.SpectralNormalization(
            L.Conv2D(3, 3, name="inner"), power_iterations=3
        ),
        train_call=True,
        id="SpectralNorm-conv-3-iterations",
    ),
    Case(
        "SpectralNormalization",
        inputs=(2, 6),
        dtype="int32",
        data="ints:7",
        build=lambda L: L.SpectralNormalization(L.Embedding(7, 3, name="inner")),
        train_call=True,
        id="SpectralNorm-embedding",
    ),
]

ERROR_CASES = [
    ErrorCase(
        "BatchNormalization",
        {"axis": "last"},
        r"BatchNormalization 'batch_normalization\w*': `axis` must be an int or a "
        r"non-empty list of ints; got axis='last'\.",
        error=TypeError,
        keras_raises=ValueError,  # int("last")
    ),
    ErrorCase(
        "BatchNormalization",
        {"axis": 2},
        r"`axis` must name axes of the input \(each between -2 and 1\); got "
        r"axis=2 for input shape \(2, 3\)\.",
        inputs=(2, 3),
        keras_raises=IndexError,  # input_shape[2]
    ),
    # Keras 3 takes any momentum and epsilon; outside [0, 1] the moving averages
    # diverge, and a negative epsilon can make the variance negative.
    ErrorCase(
        "BatchNormalization",
        {"momentum": 1.5},
        r"`momentum` must be a number in \[0.0, 1.0\]; got momentum=1.5\.",
        keras_raises=False,
    ),
    ErrorCase(
        "LayerNormalization",
        {"epsilon": -1.0},
        r"`epsilon` must be a number in \[0.0, inf\]; got epsilon=-1.0\.",
        keras_raises=False,
    ),
    ErrorCase(
        "BatchNormalization",
        {"renorm": True, "renorm_clipping": {"rmax": 1.0, "r": 2.0}},
        r"`renorm_clipping` must be a dict with keys among \['rmax', 'rmin', "
        r"'dmax'\]; got renorm_clipping=\{'rmax': 1.0, 'r': 2.0\}\.",
    ),
    ErrorCase(
        "BatchNormalization",
        {},
        r"the mask must have one axis less than the inputs; got mask shape "
        r"\(3, 5, 4\) for input shape \(3, 5, 4\)\.",
        inputs=(3, 5, 4),
        call_kwargs={"mask": Input((3, 5, 4), "bool")},
    ),
    ErrorCase(
        "LayerNormalization",
        {"axis": 1.5},
        r"`axis` must be an int or a non-empty list of ints; got axis=1.5\.",
        error=TypeError,
    ),
    ErrorCase(
        "LayerNormalization",
        {"axis": [1, -2]},
        r"`axis` must name each axis once; got axis=\[1, -2\]",
        inputs=(2, 3, 4),
        keras_raises=RuntimeError,  # when called ("dim 1 appears multiple times")
    ),
    ErrorCase(
        "GroupNormalization",
        {"groups": 0},
        r"GroupNormalization 'group_normalization\w*': `groups` must be a positive "
        r"int, or -1; got groups=0\.",
    ),
    ErrorCase(
        "GroupNormalization",
        {"groups": 4},
        r"`groups` must divide the number of channels 6 \(axis -1 of input shape "
        r"\(2, 6\)\); got groups=4\.",
        inputs=(2, 6),
    ),
    ErrorCase(
        "GroupNormalization",
        {"groups": 8},
        r"`groups` must divide the number of channels 4",
        inputs=(2, 4),
    ),
    ErrorCase(
        "UnitNormalization",
        {"axis": "all"},
        r"UnitNormalization 'unit_normalization\w*': `axis` must be an int or a "
        r"non-empty list of ints; got axis='all'\.",
        error=TypeError,
    ),
    ErrorCase(
        "RMSNormalization",
        {"axis": 3},
        r"`axis` must name axes of the input \(each between -2 and 1\); got axis=3",
        inputs=(2, 3),
        keras_raises=IndexError,  # input_shape[3]
    ),
    ErrorCase(
        "SpectralNormalization",
        {"layer": None},
        r"`layer` must be a Layer instance; got layer=None\.",
    ),
]
