"""EfficientNet B0 to B7 (``keras.applications.efficientnet``; `EfficientNet:
Rethinking Model Scaling for Convolutional Neural Networks
<https://arxiv.org/abs/1905.11946>`_), and ``EfficientNet``, the builder they
share (Keras's underlying function, with its scaling arguments)."""

from __future__ import annotations

import math

from lamina import layers
from lamina.applications import _builder
from lamina.applications._docs import document
from lamina.applications.imagenet_utils import correct_pad, decode_predictions
from lamina.utils.validation import arg_error

__all__ = [
    "EfficientNet",
    "EfficientNetB0",
    "EfficientNetB1",
    "EfficientNetB2",
    "EfficientNetB3",
    "EfficientNetB4",
    "EfficientNetB5",
    "EfficientNetB6",
    "EfficientNetB7",
    "decode_predictions",
    "preprocess_input",
]

WEIGHTS_FOLDER = "https://storage.googleapis.com/keras-applications/"
WEIGHTS_HASHES = {
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}  # fmt: skip
# (width_coefficient, depth_coefficient, default_size, dropout_rate) per variant.
SCALING = {
    "b0": (1.0, 1.0, 224, 0.2), "b1": (1.0, 1.1, 240, 0.2),
    "b2": (1.1, 1.2, 260, 0.3), "b3": (1.2, 1.4, 300, 0.3),
    "b4": (1.4, 1.8, 380, 0.4), "b5": (1.6, 2.2, 456, 0.4),
    "b6": (1.8, 2.6, 528, 0.5), "b7": (2.0, 3.1, 600, 0.5),
}  # fmt: skip
_BLOCK_KEYS = ("kernel_size", "repeats", "filters_in", "filters_out", "expand_ratio",
               "id_skip", "strides", "se_ratio")  # fmt: skip
DEFAULT_BLOCKS_ARGS = [
    dict(zip(_BLOCK_KEYS, row))
    for row in [
        (3, 1, 32, 16, 1, True, 1, 0.25), (3, 2, 16, 24, 6, True, 2, 0.25),
        (5, 2, 24, 40, 6, True, 2, 0.25), (3, 3, 40, 80, 6, True, 2, 0.25),
        (5, 3, 80, 112, 6, True, 1, 0.25), (5, 4, 112, 192, 6, True, 2, 0.25),
        (3, 1, 192, 320, 6, True, 1, 0.25),
    ]
]  # fmt: skip
CONV_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
}
DENSE_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"},
}
IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225]


# ------------------------------------------------------ shared with V2
def bn_axis(req):
    """Keras's spelling of the channel axis (3 or 1, not -1), as in its configs."""
    return 3 if req.channels_last else 1


def conv(filters, kernel_size, name, **kwargs):
    """Keras's EfficientNet convolution: 'same', no bias, He-like init."""
    options = {"padding": "same", "use_bias": False,
               "kernel_initializer": CONV_KERNEL_INITIALIZER, **kwargs}  # fmt: skip
    return layers.Conv2D(filters, kernel_size, name=name, **options)


def squeeze_excite(req, x, filters, filters_se, activation, name):
    """Channel weights from the global average (``se_squeeze`` ... ``se_excite``)."""
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    shape = (1, 1, filters) if req.channels_last else (filters, 1, 1)
    se = layers.Reshape(shape, name=f"{name}se_reshape")(se)
    se = conv(filters_se, 1, f"{name}se_reduce", activation=activation,
              use_bias=True)(se)  # fmt: skip
    se = conv(filters, 1, f"{name}se_expand", activation="sigmoid",
              use_bias=True)(se)  # fmt: skip
    return layers.multiply([x, se], name=f"{name}se_excite")


def residual(x, inputs, drop_rate, name):
    """``x + inputs``, ``x`` dropped per sample (Keras's drop connect: a
    Dropout whose rate grows with depth) while training."""
    if drop_rate > 0:
        x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1),
                           name=f"{name}drop")(x)  # fmt: skip
    return layers.add([x, inputs], name=f"{name}add")


def classifier_top(req, x, **dense_options):
    """``avg_pool``, ``top_dropout`` (rate ``req.extras['dropout_rate']``) and
    ``predictions``, or the pooling named ``avg_pool``/``max_pool``."""
    if not req.include_top:
        return _builder.pooled(x, req.pooling, ("avg_pool", "max_pool"))
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if req.extras["dropout_rate"] > 0:
        x = layers.Dropout(req.extras["dropout_rate"], name="top_dropout")(x)
    return layers.Dense(req.classes, activation=req.classifier_activation,
                        kernel_initializer=DENSE_KERNEL_INITIALIZER,
                        name="predictions", **dense_options)(x)  # fmt: skip


def check_repeats(owner, blocks_args, key):
    for args in blocks_args:
        if args[key] <= 0:
            raise arg_error(owner, f"blocks_args[...]['{key}']", "> 0 (each "
                            "stage has at least one block)", args[key])  # fmt: skip


def check_weights_name(req, hashes):
    weights_name = req.extras["weights_name"]
    if req.weights == "imagenet" and weights_name not in hashes:
        rule = f"one of {', '.join(map(repr, hashes))} with weights='imagenet'"
        raise arg_error(req.owner, "weights_name", rule, weights_name)
    return weights_name


# ------------------------------------------------------------- EfficientNet
def round_filters(filters, width_coefficient, divisor):
    """``filters * width_coefficient`` to a multiple of ``divisor``, never
    below 90% of it."""
    filters *= width_coefficient
    new_filters = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    if new_filters < 0.9 * filters:
        new_filters += divisor
    return int(new_filters)


def round_repeats(repeats, depth_coefficient):
    return int(math.ceil(depth_coefficient * repeats))


def block(req, inputs, activation, drop_rate, name, filters_in, filters_out,
          kernel_size, strides, expand_ratio, se_ratio, id_skip):  # fmt: skip
    """The inverted residual (MBConv) block."""
    axis, filters = bn_axis(req), filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = conv(filters, 1, f"{name}expand_conv")(x)
        x = layers.BatchNormalization(axis=axis, name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    if strides == 2:
        x = layers.ZeroPadding2D(correct_pad(x, kernel_size),
                                 name=f"{name}dwconv_pad")(x)  # fmt: skip
    x = layers.DepthwiseConv2D(kernel_size, strides=strides,
                               padding="same" if strides == 1 else "valid",
                               use_bias=False,
                               depthwise_initializer=CONV_KERNEL_INITIALIZER,
                               name=f"{name}dwconv")(x)  # fmt: skip
    x = layers.BatchNormalization(axis=axis, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    if 0 < se_ratio <= 1:
        filters_se = max(1, int(filters_in * se_ratio))
        x = squeeze_excite(req, x, filters, filters_se, activation, name)
    x = conv(filters_out, 1, f"{name}project_conv")(x)
    x = layers.BatchNormalization(axis=axis, name=f"{name}project_bn")(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        x = residual(x, inputs, drop_rate, name)
    return x


def _stem(req, x, width):
    """Keras's input normalization, then the stride-2 ``stem_conv``."""
    axis = bn_axis(req)
    x = layers.Rescaling(1.0 / 255.0)(x)
    x = layers.Normalization(axis=axis)(x)
    if req.weights == "imagenet":
        # Keras's own factor (1/sqrt of the std, not 1/std): its ImageNet
        # weights were converted with it, so it is kept as is.
        x = layers.Rescaling([1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(correct_pad(x, 3), name="stem_conv_pad")(x)
    x = conv(width(32), 3, "stem_conv", strides=2, padding="valid")(x)
    x = layers.BatchNormalization(axis=axis, name="stem_bn")(x)
    return layers.Activation(req.extras["activation"], name="stem_activation")(x)


def _body(req, x, blocks_args):
    e = req.extras
    activation = e["activation"]

    def width(filters):
        return round_filters(filters, e["width_coefficient"], e["depth_divisor"])

    x = _stem(req, x, width)
    depth = [round_repeats(args["repeats"], e["depth_coefficient"])
             for args in blocks_args]  # fmt: skip
    done, total = 0, float(sum(depth))
    for i, (args, repeats) in enumerate(zip(blocks_args, depth)):
        args = {k: v for k, v in args.items() if k != "repeats"}
        args["filters_in"] = width(args["filters_in"])
        args["filters_out"] = width(args["filters_out"])
        for j in range(repeats):
            if j > 0:
                args["strides"], args["filters_in"] = 1, args["filters_out"]
            x = block(req, x, activation, e["drop_connect_rate"] * done / total,
                      f"block{i + 1}{chr(j + 97)}_", **args)  # fmt: skip
            done += 1
    x = conv(width(1280), 1, "top_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis(req), name="top_bn")(x)
    return layers.Activation(activation, name="top_activation")(x)


def build(req):
    """The network ``req`` (with all of ``EfficientNet``'s arguments) asks for."""
    blocks_args = req.extras["blocks_args"]
    if isinstance(blocks_args, str) and blocks_args == "default":
        blocks_args = DEFAULT_BLOCKS_ARGS
    check_repeats(req.owner, blocks_args, "repeats")
    weights_name = check_weights_name(req, WEIGHTS_HASHES)
    weight_file = _builder.WeightFile(
        f"{req.name}.h5", f"{req.name}_notop.h5", WEIGHTS_FOLDER,
        *WEIGHTS_HASHES.get(weights_name, (None, None)),
    )  # fmt: skip
    return _builder.build(
        req, lambda x: _body(req, x, blocks_args), classifier_top,
        default_size=req.extras["default_size"], weight_file=weight_file,
    )  # fmt: skip


@document()
def EfficientNet(  # noqa: N802
    width_coefficient,
    depth_coefficient,
    default_size,
    dropout_rate=0.2,
    drop_connect_rate=0.2,
    depth_divisor=8,
    activation="swish",
    blocks_args="default",
    name="efficientnet",
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    weights_name=None,
):
    """An EfficientNet of any scaling (what ``EfficientNetB0`` ... ``B7`` call).

    Args:
        width_coefficient: scaling of the number of filters.
        depth_coefficient: scaling of the number of blocks per stage.
        default_size: the default input size (with ``include_top``).
        dropout_rate: dropout rate before the classifier.
        drop_connect_rate: the largest per-sample dropout rate of the residual
            branches (growing linearly with depth from 0).
        depth_divisor: the filters are rounded to multiples of it.
        activation: the activation of every block.
        blocks_args: ``"default"`` or a list of dicts, one per stage, with the
            keys ``kernel_size, repeats, filters_in, filters_out, expand_ratio,
            id_skip, strides, se_ratio``.
        weights_name: the variant whose ImageNet weights ``weights="imagenet"``
            loads (``"b0"`` ... ``"b7"``); the file is named after ``name``.
        {common}

    {returns}
    """
    return build(_builder.request("EfficientNet", locals()))


def _variant(owner, arguments, variant):
    width, depth, size, dropout = SCALING[variant]
    return build(_builder.request(owner, {
        **arguments, "width_coefficient": width, "depth_coefficient": depth,
        "default_size": size, "dropout_rate": dropout, "drop_connect_rate": 0.2,
        "depth_divisor": 8, "activation": "swish", "blocks_args": "default",
        "weights_name": variant,
    }))  # fmt: skip


DOC = """The EfficientNet{variant} network (`EfficientNet: Rethinking Model
    Scaling for Convolutional Neural Networks <https://arxiv.org/abs/1905.11946>`_).
    Default input {size}x{size}, at least 32x32. The model normalizes its
    inputs itself (float pixels in [0, 255]: ``Rescaling``, ``Normalization``
    and, with ``weights="imagenet"``, Keras's second ``Rescaling``);
    ``efficientnet.preprocess_input`` is the identity.

    Args:
        {common}

    {returns}
    """


def _doc(variant):
    return {"variant": variant.upper(), "size": SCALING[variant][2]}


@document(DOC, **_doc("b0"))
def EfficientNetB0(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="efficientnetb0",
):
    return _variant("EfficientNetB0", locals(), "b0")


@document(DOC, **_doc("b1"))
def EfficientNetB1(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="efficientnetb1",
):
    return _variant("EfficientNetB1", locals(), "b1")


@document(DOC, **_doc("b2"))
def EfficientNetB2(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="efficientnetb2",
):
    return _variant("EfficientNetB2", locals(), "b2")


@document(DOC, **_doc("b3"))
def EfficientNetB3(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="efficientnetb3",
):
    return _variant("EfficientNetB3", locals(), "b3")


@document(DOC, **_doc("b4"))
def EfficientNetB4(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="efficientnetb4",
):
    return _variant("EfficientNetB4", locals(), "b4")


@document(DOC, **_doc("b5"))
def EfficientNetB5(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="efficientnetb5",
):
    return _variant("EfficientNetB5", locals(), "b5")


@document(DOC, **_doc("b6"))
def EfficientNetB6(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="efficientnetb6",
):
    return _variant("EfficientNetB6", locals(), "b6")


@document(DOC, **_doc("b7"))
def EfficientNetB7(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="efficientnetb7",
):
    return _variant("EfficientNetB7", locals(), "b7")


def preprocess_input(x, data_format=None):
    """The identity: EfficientNet models normalize their inputs themselves (a
    placeholder kept for API consistency, as in Keras)."""
    return x
