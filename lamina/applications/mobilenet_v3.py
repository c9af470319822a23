"""MobileNetV3Small and MobileNetV3Large (``keras.applications.mobilenet_v3``;
`Searching for MobileNetV3 <https://arxiv.org/abs/1905.02244>`_)."""

from __future__ import annotations

import warnings

from lamina import layers
from lamina.applications import _builder
from lamina.applications._docs import document
from lamina.applications.imagenet_utils import correct_pad, decode_predictions
from lamina.applications.mobilenet_v2 import _make_divisible
from lamina.utils.validation import arg_error

__all__ = [
    "MobileNetV3Large",
    "MobileNetV3Small",
    "decode_predictions",
    "preprocess_input",
]

WEIGHTS_HASHES = {
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb", "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7", "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": ("675e7b876c45c57e9e63e6d90a36599c", "ec5221f64a2f6d1ef965a614bdae7973"),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7", "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862", "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": ("99cd97fb2fcdad2bf028eb838de69e37", "cde8136e733e811080d9fcd8a252f7e4"),
}  # fmt: skip
BN = {"epsilon": 1e-3, "momentum": 0.999}
# (expansion, filters, kernel ("k": the variant's), stride, squeeze-excite,
# activation ("act": the variant's)) of each inverted residual block.
SMALL = [
    (1, 16, 3, 2, True, "relu"), (72 / 16, 24, 3, 2, False, "relu"),
    (88 / 24, 24, 3, 1, False, "relu"), (4, 40, "k", 2, True, "act"),
    (6, 40, "k", 1, True, "act"), (6, 40, "k", 1, True, "act"),
    (3, 48, "k", 1, True, "act"), (3, 48, "k", 1, True, "act"),
    (6, 96, "k", 2, True, "act"), (6, 96, "k", 1, True, "act"),
    (6, 96, "k", 1, True, "act"),
]  # fmt: skip
LARGE = [
    (1, 16, 3, 1, False, "relu"), (4, 24, 3, 2, False, "relu"),
    (3, 24, 3, 1, False, "relu"), (3, 40, "k", 2, True, "relu"),
    (3, 40, "k", 1, True, "relu"), (3, 40, "k", 1, True, "relu"),
    (6, 80, 3, 2, False, "act"), (2.5, 80, 3, 1, False, "act"),
    (2.3, 80, 3, 1, False, "act"), (2.3, 80, 3, 1, False, "act"),
    (6, 112, 3, 1, True, "act"), (6, 112, 3, 1, True, "act"),
    (6, 160, "k", 2, True, "act"), (6, 160, "k", 1, True, "act"),
    (6, 160, "k", 1, True, "act"),
]  # fmt: skip


def _depth(v, divisor=8):
    return _make_divisible(v, divisor)


def relu(x):
    return layers.ReLU()(x)


def hard_sigmoid(x):
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def hard_swish(x):
    return layers.Activation("hard_swish")(x)


def _bn(req, name):
    return layers.BatchNormalization(axis=req.channel_axis, name=name, **BN)


def _se_block(inputs, filters, se_ratio, prefix):
    """Squeeze and excite: channel weights from the global average."""
    x = layers.GlobalAveragePooling2D(keepdims=True,
                                      name=f"{prefix}squeeze_excite_avg_pool")(inputs)  # fmt: skip
    x = layers.Conv2D(_depth(filters * se_ratio), kernel_size=1, padding="same",
                      name=f"{prefix}squeeze_excite_conv")(x)  # fmt: skip
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, kernel_size=1, padding="same",
                      name=f"{prefix}squeeze_excite_conv_1")(x)  # fmt: skip
    x = hard_sigmoid(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])


def _inverted_res_block(req, x, expansion, filters, kernel_size, stride, se_ratio,
                        activation, block_id):  # fmt: skip
    shortcut, infilters = x, x.shape[req.channel_axis]
    prefix = "expanded_conv_"
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(_depth(infilters * expansion), kernel_size=1, padding="same",
                          use_bias=False, name=f"{prefix}expand")(x)  # fmt: skip
        x = activation(_bn(req, f"{prefix}expand_bn")(x))
    if stride == 2:
        x = layers.ZeroPadding2D(padding=correct_pad(x, kernel_size),
                                 name=f"{prefix}depthwise_pad")(x)  # fmt: skip
    x = layers.DepthwiseConv2D(kernel_size, strides=stride,
                               padding="same" if stride == 1 else "valid",
                               use_bias=False, name=f"{prefix}depthwise")(x)  # fmt: skip
    x = activation(_bn(req, f"{prefix}depthwise_bn")(x))
    if se_ratio:
        x = _se_block(x, _depth(infilters * expansion), se_ratio, prefix)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", use_bias=False,
                      name=f"{prefix}project")(x)  # fmt: skip
    x = _bn(req, f"{prefix}project_bn")(x)
    if stride == 1 and infilters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def _shape_rule(req):
    """Keras's MobileNetV3 rule: ``input_shape``, else ``input_tensor``'s
    spatial size, else any size; at least 32x32; no fixed size with a top."""
    shape, tensor = req.input_shape, req.input_tensor
    if shape is None and isinstance(tensor, layers.KerasTensor):
        rows, cols = tensor.shape[1:3] if req.channels_last else tensor.shape[2:4]
        shape = (cols, rows, 3) if req.channels_last else (3, cols, rows)
    if shape is None:
        shape = (None, None, 3) if req.channels_last else (3, None, None)
    shape = tuple(shape)
    req.input_shape = shape
    size = _builder.spatial_size(req)
    if any(d is not None and d < 32 for d in size):
        raise arg_error(req.owner, "input_shape", "at least 32x32 pixels", shape)
    return shape


def _rescaling(req):
    """Keras's ``Rescaling(1/127.5, offset=-1)``: [0, 255] inputs to [-1, 1]."""
    return layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)


def _check_imagenet(req):
    alpha, minimalistic = req.extras["alpha"], req.extras["minimalistic"]
    if req.weights != "imagenet":
        return
    if alpha not in ((1.0,) if minimalistic else (0.75, 1.0)):
        rule = "1.0 with minimalistic=True" if minimalistic else "0.75 or 1.0"
        raise arg_error(req.owner, "alpha", f"{rule} with weights='imagenet'", alpha)


def build(req, blocks, last_point_ch, model_type):
    alpha, minimalistic = req.extras["alpha"], req.extras["minimalistic"]
    _check_imagenet(req)
    kernel, activation, se_ratio = (
        (3, relu, None) if minimalistic else (5, hard_swish, 0.25)
    )

    def body(x):
        rows, cols = _builder.spatial_size(req)
        if req.weights == "imagenet" and (rows != cols or rows != 224):
            warnings.warn(f"{req.owner}: the input is not 224x224; loading the "
                          "weights for 224x224.", stacklevel=5)  # fmt: skip
        if req.extras["include_preprocessing"]:
            x = _rescaling(req)(x)
        x = layers.Conv2D(16, kernel_size=3, strides=(2, 2), padding="same",
                          use_bias=False, name="conv")(x)  # fmt: skip
        x = activation(_bn(req, "conv_bn")(x))
        for block_id, (expansion, filters, k, stride, se, act) in enumerate(blocks):
            x = _inverted_res_block(
                req, x, expansion, _depth(filters * alpha), kernel if k == "k" else k,
                stride, se_ratio if se else None,
                activation if act == "act" else relu, block_id,
            )  # fmt: skip
        x = layers.Conv2D(_depth(x.shape[req.channel_axis] * 6), kernel_size=1,
                          padding="same", use_bias=False, name="conv_1")(x)  # fmt: skip
        return activation(_bn(req, "conv_1_bn")(x))

    def top(req, x):
        if not req.include_top:
            return _builder.pooled(x, req.pooling, ("avg_pool", "max_pool"))
        point = _depth(last_point_ch * alpha) if alpha > 1.0 else last_point_ch
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(point, kernel_size=1, padding="same", use_bias=True,
                          name="conv_2")(x)  # fmt: skip
        x = activation(x)
        if req.extras["dropout_rate"] > 0:
            x = layers.Dropout(req.extras["dropout_rate"])(x)
        x = layers.Conv2D(req.classes, kernel_size=1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        return layers.Activation(req.classifier_activation, name="predictions")(x)

    model_name = (
        f"{model_type}{'_minimalistic' if minimalistic else ''}_224_{alpha}_float"
    )
    hashes = WEIGHTS_HASHES.get(model_name, (None, None))
    weight_file = _builder.WeightFile(
        f"weights_mobilenet_v3_{model_name}.h5",
        f"weights_mobilenet_v3_{model_name}_no_top_v2.h5", "mobilenet_v3/", *hashes,
    )  # fmt: skip
    return _builder.build(req, body, top, weight_file=weight_file,
                          shape_rule=_shape_rule)  # fmt: skip


DOC = """The MobileNetV3 {size} network (`Searching for MobileNetV3
    <https://arxiv.org/abs/1905.02244>`_). Any input of at least 32x32 (ImageNet
    weights are for 224x224). With ``include_preprocessing`` the model rescales
    its [0, 255] inputs itself; ``mobilenet_v3.preprocess_input`` is the
    identity.

    Args:
        alpha: width multiplier (0.75 or 1.0 with ImageNet weights; 1.0 with
            ``minimalistic``).
        minimalistic: ReLU and 3x3 kernels only, no squeeze-and-excite.
        dropout_rate: dropout rate before the classifier.
        include_preprocessing: whether the model starts with a ``Rescaling``
            of [0, 255] inputs to [-1, 1].
        {common}

    {returns}
    """


@document(DOC, size="Small")
def MobileNetV3Small(  # noqa: N802
    input_shape=None,
    alpha=1.0,
    minimalistic=False,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    classes=1000,
    pooling=None,
    dropout_rate=0.2,
    classifier_activation="softmax",
    include_preprocessing=True,
    name="MobileNetV3Small",
):
    return build(_builder.request("MobileNetV3Small", locals()), SMALL, 1024, "small")


@document(DOC, size="Large")
def MobileNetV3Large(  # noqa: N802
    input_shape=None,
    alpha=1.0,
    minimalistic=False,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    classes=1000,
    pooling=None,
    dropout_rate=0.2,
    classifier_activation="softmax",
    include_preprocessing=True,
    name="MobileNetV3Large",
):
    return build(_builder.request("MobileNetV3Large", locals()), LARGE, 1280, "large")


def preprocess_input(x, data_format=None):
    """The identity: MobileNetV3 models rescale their inputs themselves (a
    placeholder kept for API consistency, as in Keras)."""
    return x
