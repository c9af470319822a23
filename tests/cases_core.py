"""Layer cases compared against Keras 3, and argument errors with pinned messages.

Each case lists only what changes the arithmetic or the shapes; ``tests/oracle.py``
does the comparing. A meta-test fails when a public layer has no case here.
"""

from __future__ import annotations

from tests.oracle import Case, ErrorCase

TRAIN = {"training": True}
INFER = {"training": False}
RANDOM = ("inference_identity", "seed", "shapes")

CASES = [
    # Dense
    Case("Dense", {"units": 4}, (3, 5)),
    Case("Dense", {"units": 4}, (2, 3, 5), id="Dense-3d"),
    Case("Dense", {"units": 3}, (2, 2, 3, 5), id="Dense-4d"),
    Case("Dense", {"units": 4, "use_bias": False}, (3, 5), id="Dense-nobias"),
    Case("Dense", {"units": 4, "use_bias": False}, (2, 3, 5), id="Dense-nobias-3d"),
    Case("Dense", {"units": 6, "activation": "relu"}, (3, 5), id="Dense-relu"),
    Case("Dense", {"units": 6, "activation": "softmax"}, (3, 5), id="Dense-softmax"),
    Case("Dense", {"units": 6, "activation": "tanh"}, (2, 4, 5), id="Dense-tanh-3d"),
    Case(
        "Dense",
        {"units": 4, "kernel_regularizer": "l2", "bias_regularizer": "l1"},
        (3, 5),
        id="Dense-regularizers",
    ),
    Case(
        "Dense",
        {
            "units": 4,
            "activity_regularizer": {"class_name": "L1", "config": {"l1": 0.1}},
        },
        (3, 5),
        id="Dense-activity-regularizer",
    ),
    Case(
        "Dense",
        {
            "units": 4,
            "kernel_initializer": "he_normal",
            "bias_initializer": "ones",
            "kernel_constraint": "max_norm",
            "bias_constraint": "non_neg",
        },
        (3, 5),
        id="Dense-init-constraints",
    ),
    Case(
        "Dense",
        {"units": 4, "dtype": "float64"},
        (3, 5),
        dtype="float64",
        id="Dense-f64",
    ),
    # Activation
    *[
        Case("Activation", {"activation": name}, (2, 3, 4), id=f"Activation-{name}")
        for name in (
            "relu",
            "tanh",
            "sigmoid",
            "softmax",
            "gelu",
            "elu",
            "selu",
            "softplus",
            "softsign",
            "swish",
            "hard_sigmoid",
            "leaky_relu",
            "log_softmax",
            "linear",
            "relu6",
            "mish",
            "exponential",
        )
    ],
    Case("Identity", {}, (2, 3, 4)),
    # Dropout family: inference values vs Keras (training is random: test_core_layers)
    Case("Dropout", {"rate": 0.5}, (4, 6), call_kwargs=INFER),
    Case(
        "Dropout",
        {"rate": 0.3, "noise_shape": (None, 1, 6), "seed": 3},
        (2, 4, 6),
        id="Dropout-noise-shape",
    ),
    Case("SpatialDropout1D", {"rate": 0.5}, (2, 5, 3)),
    Case("SpatialDropout2D", {"rate": 0.5}, (2, 4, 4, 3)),
    Case(
        "SpatialDropout2D",
        {"rate": 0.5, "data_format": "channels_first"},
        (2, 3, 4, 4),
        id="SpatialDropout2D-cf",
    ),
    Case("SpatialDropout3D", {"rate": 0.5}, (2, 3, 3, 3, 2)),
    Case("GaussianNoise", {"stddev": 0.5}, (3, 4)),
    Case("GaussianDropout", {"rate": 0.4}, (3, 4)),
    # In training the values are random: identity at inference, draws fixed by the
    # seed, shapes and dtypes of a training call vs Keras.
    *[
        Case(
            layer,
            kwargs,
            (4, 6),
            call_kwargs=TRAIN,
            checks=RANDOM,
            id=f"{layer}-random",
        )
        for layer, kwargs in (
            ("Dropout", {"rate": 0.5, "seed": 1}),
            ("GaussianNoise", {"stddev": 0.5, "seed": 2}),
            ("GaussianDropout", {"rate": 0.4, "seed": 3}),
        )
    ],
    Case("ActivityRegularization", {"l1": 0.01, "l2": 0.02}, (3, 4)),
    # Reshaping
    Case("Flatten", {}, (2, 3, 4)),
    Case("Flatten", {}, (3,), id="Flatten-rank1"),
    Case("Flatten", {"data_format": "channels_first"}, (2, 3, 4, 5), id="Flatten-cf"),
    Case("Reshape", {"target_shape": (3, 4)}, (2, 12)),
    Case("Reshape", {"target_shape": (-1, 2)}, (2, 3, 4), id="Reshape-minus1"),
    Case("Reshape", {"target_shape": (6,)}, (2, 2, 3), id="Reshape-flat"),
    Case("Permute", {"dims": (2, 1)}, (2, 10, 6)),
    Case("Permute", {"dims": (3, 1, 2)}, (2, 3, 4, 5), id="Permute-3"),
    Case("RepeatVector", {"n": 3}, (2, 5)),
    # Lambda bytecode differs between two lambda objects, so the "function" value is
    # not compared here; test_core_layers covers the function round trip.
    Case(
        "Lambda",
        {"function": lambda x: x * 2.0 + 1.0},
        (2, 3),
        config_skip=("function",),
    ),
    Case(
        "Lambda",
        {"function": lambda x, a: x * a, "arguments": {"a": 3.0}},
        (2, 3),
        id="Lambda-arguments",
        config_skip=("function",),
    ),
    Case("Masking", {}, (2, 4, 3), data="padded"),
    Case("Masking", {"mask_value": 0.0}, (3, 5, 2), data="padded", id="Masking-3"),
]

ERROR_CASES = [
    ErrorCase(
        "Dense",
        {"units": 0},
        r"Dense 'dense\w*': `units` must be an integer >= 1; "
        r"got units=0\.",
    ),
    ErrorCase(
        "Dense",
        {"units": 4},
        r"Dense 'dense\w*': expected input of rank >= 2, "
        r"got shape \(3,\)\.",
        inputs=(3,),
    ),
    ErrorCase("Activation", {"activation": "nope"}, r"nope"),
    ErrorCase(
        "Dropout",
        {"rate": 1.5},
        r"Dropout 'dropout\w*': `rate` must be a number "
        r"in \[0.0, 1.0\]; got rate=1.5\.",
    ),
    ErrorCase(
        "Dropout", {"rate": 0.5, "noise_shape": (1, 0)}, r"`noise_shape` must be"
    ),
    ErrorCase("GaussianNoise", {"stddev": -1}, r"`stddev` must be a number in"),
    ErrorCase(
        "Reshape",
        {"target_shape": (-1, -1)},
        r"Reshape 'reshape\w*': "
        r"`target_shape` must be a tuple of positive ints with at most one -1; "
        r"got target_shape=\(-1, -1\)\.",
    ),
    ErrorCase(
        "Reshape",
        {"target_shape": (5, 2)},
        r"cannot reshape input of shape "
        r"\(2, 12\) \(12 values per sample\) to target_shape \(5, 2\)",
        inputs=(2, 12),
    ),
    ErrorCase(
        "Permute",
        {"dims": (1, 3)},
        r"Permute 'permute\w*': `dims` must be a "
        r"permutation of 1\.\.2 \(1-indexed, the batch axis excluded\); "
        r"got dims=\(1, 3\)\.",
    ),
    ErrorCase(
        "Permute",
        {"dims": (2, 1)},
        r"expected input of rank 3, got shape "
        r"\(2, 3\)",
        inputs=(2, 3),
    ),
    ErrorCase("RepeatVector", {"n": 0}, r"`n` must be an integer >= 1; got n=0"),
    ErrorCase(
        "RepeatVector",
        {"n": 2},
        r"expected input of rank 2, got shape "
        r"\(2, 3, 4\)",
        inputs=(2, 3, 4),
    ),
    # Keras fails inside `inspect` with a TypeError; lamina checks the argument
    # and raises ValueError like for every other argument.
    ErrorCase(
        "Lambda",
        {"function": 3},
        r"`function` must be callable; got function=3",
        keras_raises=TypeError,
    ),
    # Keras raises only when called (its dtype check); lamina at construction.
    ErrorCase(
        "Masking",
        {"mask_value": "x"},
        r"`mask_value` must be a number",
        inputs=(1, 4, 1),
    ),
    ErrorCase("Flatten", {"data_format": "nchw"}, r"`data_format` must be one of"),
    ErrorCase(
        "SpatialDropout2D",
        {"rate": 0.1},
        r"expected input of rank 4",
        inputs=(2, 3, 4),
    ),
    ErrorCase(
        "Dense",
        {"units": 4, "foo": 1},
        r"Dense: unrecognized keyword argument\(s\) "
        r"\['foo'\]",
    ),
]
