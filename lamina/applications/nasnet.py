"""NASNetMobile and NASNetLarge (``keras.applications.nasnet``; `Learning
Transferable Architectures for Scalable Image Recognition
<https://arxiv.org/abs/1707.07012>`_): stacks of searched normal and reduction
cells. channels_last only."""

from __future__ import annotations

from lamina import layers
from lamina.applications import _builder
from lamina.applications._docs import document
from lamina.applications.imagenet_utils import correct_pad, decode_predictions
from lamina.applications.imagenet_utils import preprocess_input as _preprocess
from lamina.utils.validation import arg_error

__all__ = ["NASNetLarge", "NASNetMobile", "decode_predictions", "preprocess_input"]

BN = {"axis": -1, "momentum": 0.9997, "epsilon": 1e-3}
CONV = {"padding": "same", "use_bias": False, "kernel_initializer": "he_normal"}
# Keras caches the files under other names than the URL's.
WEIGHTS = {
    "mobile": _builder.WeightFile(
        "nasnet_mobile.h5", "nasnet_mobile_no_top.h5", "nasnet/",
        "020fb642bf7360b370c678b08e0adf61", "1ed92395b5b598bdda52abe5c0dbfd63",
        ("NASNet-mobile.h5", "NASNet-mobile-no-top.h5"),
    ),
    "large": _builder.WeightFile(
        "nasnet_large.h5", "nasnet_large_no_top.h5", "nasnet/",
        "11577c9a518f0070763c2b964a382f17", "d81d89dc07e6e56530c4e77faddd61b5",
        ("NASNet-large.h5", "NASNet-large-no-top.h5"),
    ),
}  # fmt: skip


def _separable_conv_block(
    x, filters, kernel_size=(3, 3), strides=(1, 1), block_id=None
):
    """ReLU - separable conv - BN, twice (the first one strided)."""
    x = layers.Activation("relu")(x)
    padding = "same"
    if strides == (2, 2):
        x = layers.ZeroPadding2D(padding=correct_pad(x, kernel_size),
                                 name=f"separable_conv_1_pad_{block_id}")(x)  # fmt: skip
        padding = "valid"
    x = layers.SeparableConv2D(filters, kernel_size, strides=strides,
                               name=f"separable_conv_1_{block_id}", padding=padding,
                               use_bias=False)(x)  # fmt: skip
    x = layers.BatchNormalization(name=f"separable_conv_1_bn_{block_id}", **BN)(x)
    x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(filters, kernel_size, name=f"separable_conv_2_{block_id}",
                               padding="same", use_bias=False)(x)  # fmt: skip
    return layers.BatchNormalization(name=f"separable_conv_2_bn_{block_id}", **BN)(x)


def _adjust_block(p, ip, filters, block_id=None):
    """Match the previous cell's output ``p`` to ``ip``'s size and width."""
    if p is None:
        return ip
    if p.shape[-2] != ip.shape[-2]:
        p = layers.Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
        p1 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                                     name=f"adjust_avg_pool_1_{block_id}")(p)  # fmt: skip
        p1 = layers.Conv2D(filters // 2, (1, 1), name=f"adjust_conv_1_{block_id}",
                           **CONV)(p1)  # fmt: skip
        p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                                     name=f"adjust_avg_pool_2_{block_id}")(p2)  # fmt: skip
        p2 = layers.Conv2D(filters // 2, (1, 1), name=f"adjust_conv_2_{block_id}",
                           **CONV)(p2)  # fmt: skip
        p = layers.concatenate([p1, p2], axis=-1)
        return layers.BatchNormalization(name=f"adjust_bn_{block_id}", **BN)(p)
    if p.shape[-1] != filters:
        p = layers.Activation("relu")(p)
        p = layers.Conv2D(filters, (1, 1), strides=(1, 1),
                          name=f"adjust_conv_projection_{block_id}", **CONV)(p)  # fmt: skip
        return layers.BatchNormalization(name=f"adjust_bn_{block_id}", **BN)(p)
    return p


def _stem(ip, filters, kind, block_id):
    """ReLU - 1x1 conv - BN on the cell's input."""
    h = layers.Activation("relu")(ip)
    h = layers.Conv2D(filters, (1, 1), strides=(1, 1), name=f"{kind}_conv_1_{block_id}",
                      **CONV)(h)  # fmt: skip
    return layers.BatchNormalization(name=f"{kind}_bn_1_{block_id}", **BN)(h)


def _avg3(x, strides, name):
    padding = "same" if strides == (1, 1) else "valid"
    return layers.AveragePooling2D((3, 3), strides=strides, padding=padding, name=name)(
        x
    )


def _normal_a_cell(ip, p, filters, block_id=None):
    p = _adjust_block(p, ip, filters, block_id)
    h = _stem(ip, filters, "normal", block_id)
    b = block_id
    x1 = layers.add([_separable_conv_block(h, filters, (5, 5), block_id=f"normal_left1_{b}"),
                     _separable_conv_block(p, filters, block_id=f"normal_right1_{b}")],
                    name=f"normal_add_1_{b}")  # fmt: skip
    x2 = layers.add([_separable_conv_block(p, filters, (5, 5), block_id=f"normal_left2_{b}"),
                     _separable_conv_block(p, filters, (3, 3), block_id=f"normal_right2_{b}")],
                    name=f"normal_add_2_{b}")  # fmt: skip
    x3 = layers.add(
        [_avg3(h, (1, 1), f"normal_left3_{b}"), p], name=f"normal_add_3_{b}"
    )
    x4 = layers.add([_avg3(p, (1, 1), f"normal_left4_{b}"),
                     _avg3(p, (1, 1), f"normal_right4_{b}")], name=f"normal_add_4_{b}")  # fmt: skip
    x5 = _separable_conv_block(h, filters, block_id=f"normal_left5_{b}")
    x5 = layers.add([x5, h], name=f"normal_add_5_{b}")
    x = layers.concatenate([p, x1, x2, x3, x4, x5], axis=-1, name=f"normal_concat_{b}")
    return x, ip


def _reduction_a_cell(ip, p, filters, block_id=None):
    p = _adjust_block(p, ip, filters, block_id)
    h = _stem(ip, filters, "reduction", block_id)
    b, s2 = block_id, (2, 2)
    h3 = layers.ZeroPadding2D(padding=correct_pad(h, 3), name=f"reduction_pad_1_{b}")(h)
    x1 = layers.add([_separable_conv_block(h, filters, (5, 5), s2, f"reduction_left1_{b}"),
                     _separable_conv_block(p, filters, (7, 7), s2, f"reduction_right1_{b}")],
                    name=f"reduction_add_1_{b}")  # fmt: skip
    left2 = layers.MaxPooling2D((3, 3), strides=s2, padding="valid",
                                name=f"reduction_left2_{b}")(h3)  # fmt: skip
    x2 = layers.add([left2, _separable_conv_block(p, filters, (7, 7), s2,
                                                  f"reduction_right2_{b}")],
                    name=f"reduction_add_2_{b}")  # fmt: skip
    x3 = layers.add([_avg3(h3, s2, f"reduction_left3_{b}"),
                     _separable_conv_block(p, filters, (5, 5), s2, f"reduction_right3_{b}")],
                    name=f"reduction_add3_{b}")  # fmt: skip
    x4 = layers.add([x2, _avg3(x1, (1, 1), f"reduction_left4_{b}")])
    x5_1 = _separable_conv_block(x1, filters, (3, 3), block_id=f"reduction_left4_{b}")
    x5_2 = layers.MaxPooling2D((3, 3), strides=s2, padding="valid",
                               name=f"reduction_right5_{b}")(h3)  # fmt: skip
    x5 = layers.add([x5_1, x5_2], name=f"reduction_add4_{b}")
    x = layers.concatenate([x2, x3, x4, x5], axis=-1, name=f"reduction_concat_{b}")
    return x, ip


def cells(x, penultimate_filters, num_blocks, stem_block_filters, skip_reduction,
          filter_multiplier):  # fmt: skip
    """The stem and the three stacks of normal cells between reductions."""
    filters = penultimate_filters // 24
    x = layers.Conv2D(stem_block_filters, (3, 3), strides=(2, 2), padding="valid",
                      use_bias=False, name="stem_conv1",
                      kernel_initializer="he_normal")(x)  # fmt: skip
    x = layers.BatchNormalization(name="stem_bn1", **BN)(x)
    x, p = _reduction_a_cell(x, None, filters // filter_multiplier**2, "stem_1")
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier, "stem_2")
    for stack in range(3):
        width = filters * filter_multiplier**stack
        if stack:
            x, p0 = _reduction_a_cell(x, p, width, f"reduce_{stack * num_blocks}")
            p = p if skip_reduction else p0
        for i in range(num_blocks):
            block_id = f"{stack * num_blocks + i + 1}" if stack else f"{i}"
            x, p = _normal_a_cell(x, p, width, block_id)
    return layers.Activation("relu")(x)


def build(req, size, weights_key, **cell_args):
    """A NASNet-A of ``cell_args`` (``cells``'s arguments)."""
    multiple = 24 * cell_args["filter_multiplier"] ** 2
    if cell_args["penultimate_filters"] % multiple:
        raise arg_error(req.owner, "penultimate_filters", f"a multiple of {multiple}",
                        cell_args["penultimate_filters"])  # fmt: skip
    shape = req.input_shape
    if req.weights == "imagenet" and shape is not None and None in tuple(shape):
        raise arg_error(req.owner, "input_shape", "static (no None) with "
                        "weights='imagenet'", shape)  # fmt: skip
    return _builder.build(req, lambda x: cells(x, **cell_args), default_size=size,
                          weight_file=WEIGHTS[weights_key],
                          data_formats=("channels_last",))  # fmt: skip


DOC = """The NASNet-A {kind} network (`Learning Transferable Architectures for
    Scalable Image Recognition <https://arxiv.org/abs/1707.07012>`_),
    channels_last only. Default input {size}x{size}, at least 32x32; inputs go
    through ``nasnet.preprocess_input`` ("tf").

    Keras 3 refuses NASNetMobile on its torch backend (a bug of its own); here it
    is built as Keras builds it on TensorFlow and JAX.

    Args:
        {common}

    {returns}
    """


@document(DOC, kind="Mobile (4 @ 1056)", size=224)
def NASNetMobile(  # noqa: N802
    input_shape=None,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="nasnet_mobile",
):
    if not include_top and input_shape is None:
        input_shape = (224, 224, 3)
    req = _builder.request("NASNetMobile", locals())
    return build(req, 224, "mobile", penultimate_filters=1056, num_blocks=4,
                 stem_block_filters=32, skip_reduction=False,
                 filter_multiplier=2)  # fmt: skip


@document(DOC, kind="Large (6 @ 4032)", size=331)
def NASNetLarge(  # noqa: N802
    input_shape=None,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="nasnet_large",
):
    req = _builder.request("NASNetLarge", locals())
    return build(req, 331, "large", penultimate_filters=4032, num_blocks=6,
                 stem_block_filters=96, skip_reduction=True,
                 filter_multiplier=2)  # fmt: skip


def preprocess_input(x, data_format=None):
    """``imagenet_utils.preprocess_input`` in "tf" mode: pixels scaled to
    [-1, 1]."""
    return _preprocess(x, data_format=data_format, mode="tf")
