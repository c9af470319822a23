"""EfficientNetV2 B0 to B3, S, M and L (``keras.applications.efficientnet_v2``;
`EfficientNetV2: Smaller Models and Faster Training
<https://arxiv.org/abs/2104.00298>`_), and ``EfficientNetV2``, the builder they
share (Keras's underlying function, with its scaling arguments)."""

from __future__ import annotations

import math

from lamina import initializers, layers
from lamina.applications import _builder
from lamina.applications._docs import document
from lamina.applications.efficientnet import (
    CONV_KERNEL_INITIALIZER,
    bn_axis,
    check_repeats,
    check_weights_name,
    classifier_top,
    conv,
    residual,
    squeeze_excite,
)
from lamina.applications.imagenet_utils import decode_predictions
from lamina.utils.validation import arg_error

__all__ = [
    "EfficientNetV2",
    "EfficientNetV2B0",
    "EfficientNetV2B1",
    "EfficientNetV2B2",
    "EfficientNetV2B3",
    "EfficientNetV2L",
    "EfficientNetV2M",
    "EfficientNetV2S",
    "decode_predictions",
    "preprocess_input",
]

WEIGHTS_FOLDER = "efficientnet_v2/"
WEIGHTS_HASHES = {
    "b0": ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
    "b1": ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
    "b2": ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
    "-s": ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
    "-m": ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
    "-l": ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
}  # fmt: skip
# (width_coefficient, depth_coefficient, default_size) per variant.
SCALING = {
    "b0": (1.0, 1.0, 224), "b1": (1.0, 1.1, 240), "b2": (1.1, 1.2, 260),
    "b3": (1.2, 1.4, 300), "-s": (1.0, 1.0, 384), "-m": (1.0, 1.0, 480),
    "-l": (1.0, 1.0, 480),
}  # fmt: skip
_BLOCK_KEYS = ("kernel_size", "num_repeat", "input_filters", "output_filters",
               "expand_ratio", "se_ratio", "strides", "conv_type")  # fmt: skip
# (num_repeat, input_filters, output_filters, expand_ratio, se_ratio, strides,
# conv_type: 1 fused, 0 not) of each stage; every kernel is 3x3.
_STAGES = {
    "s": [(2, 24, 24, 1, 0, 1, 1), (4, 24, 48, 4, 0, 2, 1), (4, 48, 64, 4, 0, 2, 1),
          (6, 64, 128, 4, 0.25, 2, 0), (9, 128, 160, 6, 0.25, 1, 0),
          (15, 160, 256, 6, 0.25, 2, 0)],
    "m": [(3, 24, 24, 1, 0, 1, 1), (5, 24, 48, 4, 0, 2, 1), (5, 48, 80, 4, 0, 2, 1),
          (7, 80, 160, 4, 0.25, 2, 0), (14, 160, 176, 6, 0.25, 1, 0),
          (18, 176, 304, 6, 0.25, 2, 0), (5, 304, 512, 6, 0.25, 1, 0)],
    "l": [(4, 32, 32, 1, 0, 1, 1), (7, 32, 64, 4, 0, 2, 1), (7, 64, 96, 4, 0, 2, 1),
          (10, 96, 192, 4, 0.25, 2, 0), (19, 192, 224, 6, 0.25, 1, 0),
          (25, 224, 384, 6, 0.25, 2, 0), (7, 384, 640, 6, 0.25, 1, 0)],
    # B0 to B3 share one table, scaled by their coefficients.
    "b": [(1, 32, 16, 1, 0, 1, 1), (2, 16, 32, 4, 0, 2, 1), (2, 32, 48, 4, 0, 2, 1),
          (3, 48, 96, 4, 0.25, 2, 0), (5, 96, 112, 6, 0.25, 1, 0),
          (8, 112, 192, 6, 0.25, 2, 0)],
}  # fmt: skip
DEFAULT_BLOCKS_ARGS = {
    f"efficientnetv2-{variant}": [
        dict(zip(_BLOCK_KEYS, (3, *stage[:-1], stage[-1]))) for stage in stages
    ]
    for key, stages in _STAGES.items()
    for variant in (("b0", "b1", "b2", "b3") if key == "b" else (key,))
}
B_MEAN = [0.485, 0.456, 0.406]
B_VARIANCE = [0.229**2, 0.224**2, 0.225**2]


def round_filters(filters, width_coefficient, min_depth, depth_divisor):
    """``filters * width_coefficient`` to a multiple of ``depth_divisor``, at
    least ``min_depth`` (``depth_divisor`` when ``min_depth`` is falsy)."""
    filters *= width_coefficient
    minimum = min_depth or depth_divisor
    rounded = int(filters + depth_divisor / 2) // depth_divisor * depth_divisor
    return int(max(minimum, rounded))


def round_repeats(repeats, depth_coefficient):
    return int(math.ceil(depth_coefficient * repeats))


def _bn(req, name):
    return layers.BatchNormalization(axis=bn_axis(req),
                                     momentum=req.extras["bn_momentum"], name=name)  # fmt: skip


def mb_conv_block(req, inputs, input_filters, output_filters, expand_ratio,
                  kernel_size, strides, se_ratio, drop_rate, name):  # fmt: skip
    """MBConv: 1x1 expansion, depthwise conv, squeeze-excite, 1x1 projection."""
    activation, filters = req.extras["activation"], input_filters * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = conv(filters, 1, f"{name}expand_conv")(x)
        x = _bn(req, f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=strides, padding="same",
                               use_bias=False,
                               depthwise_initializer=CONV_KERNEL_INITIALIZER,
                               name=f"{name}dwconv2")(x)  # fmt: skip
    x = _bn(req, f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    return _se_and_project(req, x, inputs, input_filters, output_filters,
                           expand_ratio, 1, 1, strides, se_ratio, drop_rate, name)  # fmt: skip


def fused_mb_conv_block(req, inputs, input_filters, output_filters, expand_ratio,
                        kernel_size, strides, se_ratio, drop_rate, name):  # fmt: skip
    """Fused MBConv: one full ``kernel_size`` expansion conv instead of the 1x1
    expansion and the depthwise conv."""
    activation, filters = req.extras["activation"], input_filters * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = conv(filters, kernel_size, f"{name}expand_conv", strides=strides)(x)
        x = _bn(req, f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
        kernel_size, project_strides = 1, 1
    else:
        project_strides = strides
    return _se_and_project(req, x, inputs, input_filters, output_filters,
                           expand_ratio, kernel_size, project_strides, strides,
                           se_ratio, drop_rate, name,
                           fused=True)  # fmt: skip


def _se_and_project(req, x, inputs, input_filters, output_filters, expand_ratio,
                    kernel_size, project_strides, strides, se_ratio, drop_rate,
                    name, fused=False):  # fmt: skip
    """The blocks' common end: squeeze-excite, the projection (activated in a
    fused block without expansion) and the residual."""
    activation, filters = req.extras["activation"], input_filters * expand_ratio
    if 0 < se_ratio <= 1:
        filters_se = max(1, int(input_filters * se_ratio))
        x = squeeze_excite(req, x, filters, filters_se, activation, name)
    x = conv(output_filters, kernel_size, f"{name}project_conv",
             strides=project_strides)(x)  # fmt: skip
    x = _bn(req, f"{name}project_bn")(x)
    if fused and expand_ratio == 1:
        x = layers.Activation(activation, name=f"{name}project_activation")(x)
    if strides == 1 and input_filters == output_filters:
        x = residual(x, inputs, drop_rate, name)
    return x


def _preprocessing(req, x, variant):
    """Keras's input scaling: B0 to B3 with 3 channels normalize as V1 did
    (ImageNet's mean and variance), the others map [0, 255] to about [-1, 1]."""
    channels = req.input_shape[-1 if req.channels_last else 0]
    if variant.split("-")[-1].startswith("b") and channels == 3:
        x = layers.Rescaling(scale=1.0 / 255)(x)
        return layers.Normalization(mean=B_MEAN, variance=B_VARIANCE,
                                    axis=bn_axis(req))(x)  # fmt: skip
    return layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)


def _body(req, x, blocks_args, variant):
    e = req.extras
    activation = e["activation"]

    def width(filters):
        return round_filters(filters, e["width_coefficient"], e["min_depth"],
                             e["depth_divisor"])  # fmt: skip

    if e["include_preprocessing"]:
        x = _preprocessing(req, x, variant)
    x = conv(width(blocks_args[0]["input_filters"]), 3, "stem_conv", strides=2)(x)
    x = _bn(req, "stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)
    done, total = 0, float(sum(args["num_repeat"] for args in blocks_args))
    for i, args in enumerate(blocks_args):
        args = dict(args)
        block = (mb_conv_block, fused_mb_conv_block)[args.pop("conv_type")]
        repeats = round_repeats(args.pop("num_repeat"), e["depth_coefficient"])
        args["input_filters"] = width(args["input_filters"])
        args["output_filters"] = width(args["output_filters"])
        for j in range(repeats):
            if j > 0:
                args["strides"], args["input_filters"] = 1, args["output_filters"]
            x = block(req, x, drop_rate=e["drop_connect_rate"] * done / total,
                      name=f"block{i + 1}{chr(j + 97)}_", **args)  # fmt: skip
            done += 1
    x = conv(width(1280), 1, "top_conv")(x)
    x = _bn(req, "top_bn")(x)
    return layers.Activation(activation, name="top_activation")(x)


def _variant_key(req):
    """The ``DEFAULT_BLOCKS_ARGS`` key: Keras's (``name``) where it is one,
    else the one of ``weights_name`` with default blocks (Keras raises a
    KeyError there), else ``name`` (which then only picks the preprocessing)."""
    name, weights_name = req.name, req.extras["weights_name"]
    if name in DEFAULT_BLOCKS_ARGS or not _is_default(req.extras["blocks_args"]):
        return name
    return f"efficientnetv2-{str(weights_name).lstrip('-')}"


def _is_default(blocks_args):
    return isinstance(blocks_args, str) and blocks_args == "default"


def build(req):
    """The network ``req`` (with all of ``EfficientNetV2``'s arguments) asks for."""
    variant = _variant_key(req)
    blocks_args = req.extras["blocks_args"]
    if _is_default(blocks_args):
        if variant not in DEFAULT_BLOCKS_ARGS:
            raise arg_error(req.owner, "blocks_args", "a list of block "
                                     "dicts unless `name` or `weights_name` names "
                                     "a Keras variant", blocks_args)  # fmt: skip
        blocks_args = DEFAULT_BLOCKS_ARGS[variant]
    check_repeats(req.owner, blocks_args, "num_repeat")
    weights_name = check_weights_name(req, WEIGHTS_HASHES)
    weight_file = _builder.WeightFile(
        f"{req.name}.h5", f"{req.name}_notop.h5", WEIGHTS_FOLDER,
        *WEIGHTS_HASHES.get(weights_name, (None, None)),
    )  # fmt: skip

    def top(req, x):
        return classifier_top(req, x, bias_initializer=initializers.Constant(0.0))

    return _builder.build(
        req, lambda x: _body(req, x, blocks_args, variant), top,
        default_size=req.extras["default_size"], weight_file=weight_file,
    )  # fmt: skip


@document()
def EfficientNetV2(  # noqa: N802
    width_coefficient,
    depth_coefficient,
    default_size,
    dropout_rate=0.2,
    drop_connect_rate=0.2,
    depth_divisor=8,
    min_depth=8,
    bn_momentum=0.9,
    activation="swish",
    blocks_args="default",
    name="efficientnetv2",
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    include_preprocessing=True,
    weights_name=None,
):
    """An EfficientNetV2 of any scaling (what ``EfficientNetV2B0`` ... ``L``
    call).

    Args:
        width_coefficient: scaling of the number of filters.
        depth_coefficient: scaling of the number of blocks per stage.
        default_size: the default input size (with ``include_top``).
        dropout_rate: dropout rate before the classifier.
        drop_connect_rate: the largest per-sample dropout rate of the residual
            branches (growing linearly with depth from 0).
        depth_divisor: the filters are rounded to multiples of it.
        min_depth: the fewest filters of a layer (``depth_divisor`` if falsy).
        bn_momentum: momentum of every BatchNormalization.
        activation: the activation of every block.
        blocks_args: ``"default"`` (the blocks of the variant ``name`` names,
            ``"efficientnetv2-b0"`` ... ``"efficientnetv2-l"``, else of
            ``weights_name``) or a list of dicts, one per stage, with the keys
            ``kernel_size, num_repeat, input_filters, output_filters,
            expand_ratio, se_ratio, strides, conv_type`` (1: fused MBConv).
        include_preprocessing: whether the model starts with Keras's input
            scaling (B variants with 3 channels: ``Rescaling`` to [0, 1] and
            ImageNet's ``Normalization``; else ``Rescaling`` to [-1, 1]).
        weights_name: the variant whose ImageNet weights ``weights="imagenet"``
            loads (``"b0"`` ... ``"b3"``, ``"-s"``, ``"-m"``, ``"-l"``); the
            file is named after ``name``.
        {common}

    {returns}
    """
    return build(_builder.request("EfficientNetV2", locals()))


def _variant(owner, arguments, variant):
    width, depth, size = SCALING[variant]
    return build(_builder.request(owner, {
        **arguments, "width_coefficient": width, "depth_coefficient": depth,
        "default_size": size, "dropout_rate": 0.2, "drop_connect_rate": 0.2,
        "depth_divisor": 8, "min_depth": 8, "bn_momentum": 0.9,
        "activation": "swish", "blocks_args": "default", "weights_name": variant,
    }))  # fmt: skip


DOC = """The EfficientNetV2{variant} network (`EfficientNetV2: Smaller Models
    and Faster Training <https://arxiv.org/abs/2104.00298>`_). Default input
    {size}x{size}, at least 32x32. The model scales its inputs itself (float
    pixels in [0, 255]) with ``include_preprocessing``;
    ``efficientnet_v2.preprocess_input`` is the identity.

    Args:
        include_preprocessing: whether the model starts with Keras's input
            scaling ({scaling}).
        {common}

    {returns}
    """


def _doc(variant):
    scaling = (
        "``Rescaling`` to [0, 1] and ImageNet's ``Normalization`` for 3 channels, "
        "else ``Rescaling`` to [-1, 1]"
        if variant.startswith("b")
        else "``Rescaling`` to [-1, 1]"
    )
    return {"variant": variant.strip("-").upper(), "size": SCALING[variant][2],
            "scaling": scaling}  # fmt: skip


@document(DOC, **_doc("b0"))
def EfficientNetV2B0(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    include_preprocessing=True,
    name="efficientnetv2-b0",
):
    return _variant("EfficientNetV2B0", locals(), "b0")


@document(DOC, **_doc("b1"))
def EfficientNetV2B1(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    include_preprocessing=True,
    name="efficientnetv2-b1",
):
    return _variant("EfficientNetV2B1", locals(), "b1")


@document(DOC, **_doc("b2"))
def EfficientNetV2B2(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    include_preprocessing=True,
    name="efficientnetv2-b2",
):
    return _variant("EfficientNetV2B2", locals(), "b2")


@document(DOC, **_doc("b3"))
def EfficientNetV2B3(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    include_preprocessing=True,
    name="efficientnetv2-b3",
):
    return _variant("EfficientNetV2B3", locals(), "b3")


@document(DOC, **_doc("-s"))
def EfficientNetV2S(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    include_preprocessing=True,
    name="efficientnetv2-s",
):
    return _variant("EfficientNetV2S", locals(), "-s")


@document(DOC, **_doc("-m"))
def EfficientNetV2M(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    include_preprocessing=True,
    name="efficientnetv2-m",
):
    return _variant("EfficientNetV2M", locals(), "-m")


@document(DOC, **_doc("-l"))
def EfficientNetV2L(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    include_preprocessing=True,
    name="efficientnetv2-l",
):
    return _variant("EfficientNetV2L", locals(), "-l")


def preprocess_input(x, data_format=None):
    """The identity: EfficientNetV2 models scale their inputs themselves (a
    placeholder kept for API consistency, as in Keras)."""
    return x
