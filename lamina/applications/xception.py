"""Xception (``keras.applications.xception``; `Xception: Deep Learning with
Depthwise Separable Convolutions <https://arxiv.org/abs/1610.02357>`_)."""

from __future__ import annotations

from lamina import layers
from lamina.applications import _builder
from lamina.applications._docs import document
from lamina.applications.imagenet_utils import decode_predictions
from lamina.applications.imagenet_utils import preprocess_input as _preprocess

__all__ = ["Xception", "decode_predictions", "preprocess_input"]

WEIGHTS = _builder.WeightFile(
    "xception_weights_tf_dim_ordering_tf_kernels.h5",
    "xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "xception/",
    "0a58e3b7378bc2990ea3b43d5981f1f6",
    "b0042744bf5b25fce3cb969f33bebb97",
)


def _sepconv_bn(req, x, filters, name, relu_first=True):
    """[ReLU] - separable 3x3 conv - BN, as Keras names them."""
    if relu_first:
        x = layers.Activation("relu", name=f"{name}_act")(x)
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False,
                               name=name)(x)  # fmt: skip
    return layers.BatchNormalization(axis=req.channel_axis, name=f"{name}_bn")(x)


def _conv_bn(req, x, filters, name, **conv):
    x = layers.Conv2D(filters, **conv, use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=req.channel_axis,
                                     name=name and f"{name}_bn")(x)  # fmt: skip


def _down_block(req, x, filters, block, first_relu=True):
    """Two separable convs and a strided max pooling, plus a strided 1x1
    projection of the input."""
    residual = _conv_bn(req, x, filters[1], None, kernel_size=(1, 1), strides=(2, 2),
                        padding="same")  # fmt: skip
    x = _sepconv_bn(req, x, filters[0], f"block{block}_sepconv1", first_relu)
    if not first_relu:  # Keras names block2's first activation after sepconv2
        x = layers.Activation("relu", name=f"block{block}_sepconv2_act")(x)
        x = _sepconv_bn(req, x, filters[1], f"block{block}_sepconv2", False)
    else:
        x = _sepconv_bn(req, x, filters[1], f"block{block}_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same",
                            name=f"block{block}_pool")(x)  # fmt: skip
    return layers.add([x, residual])


def body(req, x):
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(
        x
    )
    x = layers.BatchNormalization(axis=req.channel_axis, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=req.channel_axis, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)
    x = _down_block(req, x, (128, 128), 2, first_relu=False)
    x = _down_block(req, x, (256, 256), 3)
    x = _down_block(req, x, (728, 728), 4)
    for block in range(5, 13):
        residual = x
        for i in (1, 2, 3):
            x = _sepconv_bn(req, x, 728, f"block{block}_sepconv{i}")
        x = layers.add([x, residual])
    x = _down_block(req, x, (728, 1024), 13)
    for i, filters in ((1, 1536), (2, 2048)):
        x = _sepconv_bn(req, x, filters, f"block14_sepconv{i}", relu_first=False)
        x = layers.Activation("relu", name=f"block14_sepconv{i}_act")(x)
    return x


@document()
def Xception(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="xception",
):
    """The Xception network (`Xception: Deep Learning with Depthwise Separable
    Convolutions <https://arxiv.org/abs/1610.02357>`_). Default input 299x299,
    at least 71x71; inputs go through ``xception.preprocess_input`` ("tf").

    Args:
        {common}

    {returns}
    """
    req = _builder.request("Xception", locals())
    return _builder.build(req, lambda x: body(req, x),
                          lambda req, x: _builder.dense_top(req, x, "avg_pool"),
                          default_size=299, min_size=71, weight_file=WEIGHTS)  # fmt: skip


def preprocess_input(x, data_format=None):
    """``imagenet_utils.preprocess_input`` in "tf" mode: pixels scaled to
    [-1, 1]."""
    return _preprocess(x, data_format=data_format, mode="tf")
