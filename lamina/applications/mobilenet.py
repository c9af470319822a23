"""MobileNet (``keras.applications.mobilenet``; `MobileNets: Efficient
Convolutional Neural Networks for Mobile Vision Applications
<https://arxiv.org/abs/1704.04861>`_)."""

from __future__ import annotations

import warnings

from lamina import layers
from lamina.applications import _builder
from lamina.applications._docs import document
from lamina.applications.imagenet_utils import decode_predictions
from lamina.applications.imagenet_utils import preprocess_input as _preprocess
from lamina.utils.validation import arg_error

__all__ = ["MobileNet", "decode_predictions", "preprocess_input"]

FOLDER = "mobilenet/"
ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}
# (pointwise filters, stride) of the 13 depthwise separable blocks.
BLOCKS = (
    [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)]
    + [(512, 1)] * 5
    + [(1024, 2), (1024, 1)]
)


def default_size(req, sizes, tensor_shape=None) -> int:
    """The size of the ImageNet weights to pick: the input's when square and
    one of ``sizes``, else 224 (Keras's rule)."""
    shape = req.input_shape if req.input_shape is not None else tensor_shape
    if shape is None:
        return 224
    rows, cols = (shape[0], shape[1]) if req.channels_last else (shape[1], shape[2])
    return rows if rows == cols and rows in sizes else 224


def imagenet_rows(req, sizes) -> int:
    """The size whose weights are loaded (224 with a warning when the input is
    not square or not one of ``sizes``)."""
    rows, cols = _builder.spatial_size(req)
    if rows != cols or rows not in sizes:
        warnings.warn(
            f"{req.owner}: the input is not square or not one of {list(sizes)} "
            "pixels; loading the weights for 224x224.",
            stacklevel=4,
        )
        return 224
    return rows


def _conv_block(req, x, filters, alpha, strides):
    x = layers.Conv2D(int(filters * alpha), (3, 3), padding="same", use_bias=False,
                      strides=strides, name="conv1")(x)  # fmt: skip
    x = layers.BatchNormalization(axis=req.channel_axis, name="conv1_bn")(x)
    return layers.ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(req, x, filters, alpha, depth_multiplier, stride, block):
    if stride != 1:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block}")(x)
    x = layers.DepthwiseConv2D((3, 3), padding="same" if stride == 1 else "valid",
                               depth_multiplier=depth_multiplier,
                               strides=(stride, stride), use_bias=False,
                               name=f"conv_dw_{block}")(x)  # fmt: skip
    x = layers.BatchNormalization(axis=req.channel_axis, name=f"conv_dw_{block}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block}_relu")(x)
    x = layers.Conv2D(int(filters * alpha), (1, 1), padding="same", use_bias=False,
                      strides=(1, 1), name=f"conv_pw_{block}")(x)  # fmt: skip
    x = layers.BatchNormalization(axis=req.channel_axis, name=f"conv_pw_{block}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block}_relu")(x)


def _top(req, x):
    if not req.include_top:
        return _builder.pooled(x, req.pooling)
    classes = req.classes
    x = layers.GlobalAveragePooling2D(keepdims=True)(x)
    x = layers.Dropout(req.extras["dropout"], name="dropout")(x)
    x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
    x = layers.Reshape((classes,), name="reshape_2")(x)
    return layers.Activation(req.classifier_activation, name="predictions")(x)


def _check_imagenet(req):
    alpha, multiplier = req.extras["alpha"], req.extras["depth_multiplier"]
    if req.weights != "imagenet":
        return
    if multiplier != 1:
        raise arg_error(req.owner, "depth_multiplier", "1 with weights='imagenet'",
                        multiplier)  # fmt: skip
    if alpha not in ALPHA_TEXT:
        raise arg_error(req.owner, "alpha", "one of 0.25, 0.5, 0.75, 1.0 with "
                        "weights='imagenet'", alpha)  # fmt: skip


@document()
def MobileNet(  # noqa: N802
    input_shape=None,
    alpha=1.0,
    depth_multiplier=1,
    dropout=1e-3,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
):
    """The MobileNet network (`MobileNets: Efficient Convolutional Neural
    Networks for Mobile Vision Applications <https://arxiv.org/abs/1704.04861>`_).
    Default input 224x224 (ImageNet weights exist for 128, 160, 192 and 224), at
    least 32x32; inputs go through ``mobilenet.preprocess_input`` ("tf").

    Args:
        alpha: width multiplier of every layer's filters (0.25, 0.5, 0.75 or
            1.0 with ImageNet weights).
        depth_multiplier: depth multiplier of the depthwise convolutions.
        dropout: dropout rate before the classifier.
        {common}
            Default: ``mobilenet_{{alpha:0.2f}}_{{rows}}``.

    {returns}

    Example:
    >>> import lamina as keras
    >>> model = keras.applications.MobileNet(
    ...     weights=None, alpha=0.25, include_top=False, input_shape=(32, 32, 3))
    >>> model.name, model.output.shape
    ('mobilenet_0.25_32', (None, 1, 1, 256))
    """
    req = _builder.request("MobileNet", locals())
    _check_imagenet(req)
    rows = None

    def body(x):
        nonlocal rows
        rows = _builder.spatial_size(req)[0]
        if req.weights == "imagenet":
            rows = imagenet_rows(req, (128, 160, 192, 224))
        x = _conv_block(req, x, 32, alpha, strides=(2, 2))
        for block, (filters, stride) in enumerate(BLOCKS, start=1):
            x = _depthwise_conv_block(req, x, filters, alpha, depth_multiplier,
                                      stride, block)  # fmt: skip
        return x

    size = default_size(req, (128, 160, 192, 224))
    return _builder.build(req, body, _top, default_size=size,
                          weight_file=lambda req: _weight_file(req, rows),
                          name=lambda: f"mobilenet_{alpha:0.2f}_{rows}")  # fmt: skip


def _weight_file(req, rows):
    stem = f"mobilenet_{ALPHA_TEXT[req.extras['alpha']]}_{rows}_tf"
    return _builder.WeightFile(f"{stem}.h5", f"{stem}_no_top.h5", FOLDER)


def preprocess_input(x, data_format=None):
    """``imagenet_utils.preprocess_input`` in "tf" mode: pixels scaled to
    [-1, 1]."""
    return _preprocess(x, data_format=data_format, mode="tf")
