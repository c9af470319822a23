"""InceptionV3 (``keras.applications.inception_v3``; `Rethinking the Inception
Architecture for Computer Vision <https://arxiv.org/abs/1512.00567>`_)."""

from __future__ import annotations

from lamina import config, layers
from lamina.applications import _builder
from lamina.applications._docs import document
from lamina.applications.imagenet_utils import decode_predictions
from lamina.applications.imagenet_utils import preprocess_input as _preprocess

__all__ = ["InceptionV3", "decode_predictions", "preprocess_input"]

WEIGHTS = _builder.WeightFile(
    "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
    "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "inception_v3/",
    "9a0d58056eeedaa3f26cb7ebd46da564",
    "bcbd6486424b2319ff4ef7d526e38f63",
)


def conv2d_bn(x, filters, rows, cols, padding="same", strides=(1, 1)):
    """Conv (no bias) - BN (no scale) - ReLU, auto-named as in Keras."""
    axis = 3 if config.image_data_format() == "channels_last" else 1
    x = layers.Conv2D(filters, (rows, cols), strides=strides, padding=padding,
                      use_bias=False)(x)  # fmt: skip
    x = layers.BatchNormalization(axis=axis, scale=False)(x)
    return layers.Activation("relu")(x)


def _chain(x, specs):
    """``conv2d_bn`` applied in sequence: each spec is (filters, rows, cols[, kw])."""
    for spec in specs:
        x = conv2d_bn(x, *spec[:3], **(spec[3] if len(spec) > 3 else {}))
    return x


def _avg_branch(x, filters):
    x = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv2d_bn(x, filters, 1, 1)


VALID2 = {"strides": (2, 2), "padding": "valid"}


def _block_35(x, pool_filters, axis, name):
    """The 35x35 Inception-A block (mixed0-2)."""
    branches = [
        conv2d_bn(x, 64, 1, 1),
        _chain(x, [(48, 1, 1), (64, 5, 5)]),
        _chain(x, [(64, 1, 1), (96, 3, 3), (96, 3, 3)]),
        _avg_branch(x, pool_filters),
    ]
    return layers.concatenate(branches, axis=axis, name=name)


def _block_17(x, width, axis, name):
    """The 17x17 Inception-C block with factorized 7x7 convolutions (mixed4-7)."""
    branches = [
        conv2d_bn(x, 192, 1, 1),
        _chain(x, [(width, 1, 1), (width, 1, 7), (192, 7, 1)]),
        _chain(
            x, [(width, 1, 1), (width, 7, 1), (width, 1, 7), (width, 7, 1), (192, 1, 7)]
        ),  # fmt: skip
        _avg_branch(x, 192),
    ]
    return layers.concatenate(branches, axis=axis, name=name)


def _block_8(x, i, axis):
    """The 8x8 block with split 1x3/3x1 branches (mixed9, mixed10)."""
    branch1x1 = conv2d_bn(x, 320, 1, 1)
    branch3x3 = conv2d_bn(x, 384, 1, 1)
    branch3x3 = layers.concatenate(
        [conv2d_bn(branch3x3, 384, 1, 3), conv2d_bn(branch3x3, 384, 3, 1)],
        axis=axis, name=f"mixed9_{i}",
    )  # fmt: skip
    dbl = _chain(x, [(448, 1, 1), (384, 3, 3)])
    dbl = layers.concatenate(
        [conv2d_bn(dbl, 384, 1, 3), conv2d_bn(dbl, 384, 3, 1)], axis=axis
    )
    branches = [branch1x1, branch3x3, dbl, _avg_branch(x, 192)]
    return layers.concatenate(branches, axis=axis, name=f"mixed{9 + i}")


def body(req, x):
    axis = 3 if req.channels_last else 1
    x = _chain(x, [(32, 3, 3, VALID2), (32, 3, 3, {"padding": "valid"}), (64, 3, 3)])
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _chain(x, [(80, 1, 1, {"padding": "valid"}), (192, 3, 3, {"padding": "valid"})])
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    for i, pool_filters in enumerate((32, 64, 64)):
        x = _block_35(x, pool_filters, axis, f"mixed{i}")
    branches = [
        conv2d_bn(x, 384, 3, 3, **VALID2),
        _chain(x, [(64, 1, 1), (96, 3, 3), (96, 3, 3, VALID2)]),
        layers.MaxPooling2D((3, 3), strides=(2, 2))(x),
    ]
    x = layers.concatenate(branches, axis=axis, name="mixed3")
    for i, width in enumerate((128, 160, 160, 192)):
        x = _block_17(x, width, axis, f"mixed{4 + i}")
    branches = [
        _chain(x, [(192, 1, 1), (320, 3, 3, VALID2)]),
        _chain(x, [(192, 1, 1), (192, 1, 7), (192, 7, 1), (192, 3, 3, VALID2)]),
        layers.MaxPooling2D((3, 3), strides=(2, 2))(x),
    ]
    x = layers.concatenate(branches, axis=axis, name="mixed8")
    for i in range(2):
        x = _block_8(x, i, axis)
    return x


@document()
def InceptionV3(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="inception_v3",
):
    """The Inception V3 network (`Rethinking the Inception Architecture for
    Computer Vision <https://arxiv.org/abs/1512.00567>`_). Default input
    299x299, at least 75x75; inputs go through ``inception_v3.preprocess_input``
    ("tf").

    Args:
        {common}

    {returns}
    """
    req = _builder.request("InceptionV3", locals())
    return _builder.build(req, lambda x: body(req, x),
                          lambda req, x: _builder.dense_top(req, x, "avg_pool"),
                          default_size=299, min_size=75, weight_file=WEIGHTS)  # fmt: skip


def preprocess_input(x, data_format=None):
    """``imagenet_utils.preprocess_input`` in "tf" mode: pixels scaled to
    [-1, 1]."""
    return _preprocess(x, data_format=data_format, mode="tf")
