"""MobileNetV2 (``keras.applications.mobilenet_v2``; `MobileNetV2: Inverted
Residuals and Linear Bottlenecks <https://arxiv.org/abs/1801.04381>`_)."""

from __future__ import annotations

from lamina import layers
from lamina.applications import _builder, mobilenet
from lamina.applications._docs import document
from lamina.applications.imagenet_utils import correct_pad, decode_predictions
from lamina.applications.imagenet_utils import preprocess_input as _preprocess
from lamina.utils.validation import arg_error

__all__ = ["MobileNetV2", "decode_predictions", "preprocess_input"]

FOLDER = "mobilenet_v2/"
SIZES = (96, 128, 160, 192, 224)
ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
# (filters, stride, expansion) of the 17 inverted residual blocks.
BLOCKS = (
    [(16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6)]
    + [(64, 2, 6)] + [(64, 1, 6)] * 3 + [(96, 1, 6)] * 3
    + [(160, 2, 6)] + [(160, 1, 6)] * 2 + [(320, 1, 6)]
)  # fmt: skip
BN = {"epsilon": 1e-3, "momentum": 0.999}


def _make_divisible(v, divisor, min_value=None):
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def _bn(req, name):
    return layers.BatchNormalization(axis=req.channel_axis, name=name, **BN)


def _inverted_res_block(req, inputs, expansion, stride, alpha, filters, block_id):
    in_channels = inputs.shape[req.channel_axis]
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_"
    if block_id:
        x = layers.Conv2D(expansion * in_channels, kernel_size=1, padding="same",
                          use_bias=False, activation=None,
                          name=f"{prefix}expand")(x)  # fmt: skip
        x = _bn(req, f"{prefix}expand_BN")(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=correct_pad(x, 3), name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(kernel_size=3, strides=stride, activation=None,
                               use_bias=False,
                               padding="same" if stride == 1 else "valid",
                               name=f"{prefix}depthwise")(x)  # fmt: skip
    x = _bn(req, f"{prefix}depthwise_BN")(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = layers.Conv2D(pointwise_filters, kernel_size=1, padding="same",
                      use_bias=False, activation=None,
                      name=f"{prefix}project")(x)  # fmt: skip
    x = _bn(req, f"{prefix}project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def _check(req):
    alpha, tensor = req.extras["alpha"], req.input_tensor
    if req.weights == "imagenet" and alpha not in ALPHAS:
        raise arg_error(req.owner, "alpha", "one of 0.35, 0.5, 0.75, 1.0, 1.3, "
                        "1.4 with weights='imagenet'", alpha)  # fmt: skip
    if isinstance(tensor, layers.KerasTensor) and req.input_shape is not None:
        given = tuple(tensor.shape[1:])
        if any(a is not None and b is not None and a != b
               for a, b in zip(given, req.input_shape)):  # fmt: skip
            raise arg_error(req.owner, "input_shape", "the shape of `input_tensor` "
                            f"{given}", req.input_shape)  # fmt: skip


@document()
def MobileNetV2(  # noqa: N802
    input_shape=None,
    alpha=1.0,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
):
    """The MobileNetV2 network (`MobileNetV2: Inverted Residuals and Linear
    Bottlenecks <https://arxiv.org/abs/1801.04381>`_). Default input 224x224
    (ImageNet weights exist for 96, 128, 160, 192 and 224), at least 32x32;
    inputs go through ``mobilenet_v2.preprocess_input`` ("tf").

    Args:
        alpha: width multiplier of every layer's filters (0.35, 0.5, 0.75, 1.0,
            1.3 or 1.4 with ImageNet weights).
        {common}
            Default: ``mobilenetv2_{{alpha:0.2f}}_{{rows}}``.

    {returns}

    Example:
    >>> import lamina as keras
    >>> model = keras.applications.MobileNetV2(
    ...     weights=None, alpha=0.35, include_top=False, input_shape=(32, 32, 3))
    >>> model.name, model.output.shape
    ('mobilenetv2_0.35_32', (None, 1, 1, 1280))
    """
    req = _builder.request("MobileNetV2", locals())
    _check(req)
    rows = None

    def body(x):
        nonlocal rows
        rows = _builder.spatial_size(req)[0]
        if req.weights == "imagenet":
            rows = mobilenet.imagenet_rows(req, SIZES)
        filters = _make_divisible(32 * alpha, 8)
        x = layers.Conv2D(filters, kernel_size=3, strides=(2, 2), padding="same",
                          use_bias=False, name="Conv1")(x)  # fmt: skip
        x = _bn(req, "bn_Conv1")(x)
        x = layers.ReLU(6.0, name="Conv1_relu")(x)
        for block_id, (filters, stride, expansion) in enumerate(BLOCKS):
            x = _inverted_res_block(req, x, expansion, stride, alpha, filters,
                                    block_id)  # fmt: skip
        last = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
        x = layers.Conv2D(last, kernel_size=1, use_bias=False, name="Conv_1")(x)
        x = _bn(req, "Conv_1_bn")(x)
        return layers.ReLU(6.0, name="out_relu")(x)

    tensor = input_tensor
    shape = tuple(tensor.shape[1:]) if isinstance(tensor, layers.KerasTensor) else None
    size = mobilenet.default_size(req, SIZES, shape)
    return _builder.build(req, body, default_size=size,
                          weight_file=lambda req: _weight_file(req, rows),
                          name=lambda: f"mobilenetv2_{alpha:0.2f}_{rows}")  # fmt: skip


def _weight_file(req, rows):
    stem = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(req.extras['alpha'])}_{rows}"
    return _builder.WeightFile(f"{stem}.h5", f"{stem}_no_top.h5", FOLDER)


def preprocess_input(x, data_format=None):
    """``imagenet_utils.preprocess_input`` in "tf" mode: pixels scaled to
    [-1, 1]."""
    return _preprocess(x, data_format=data_format, mode="tf")
