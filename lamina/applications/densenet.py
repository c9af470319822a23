"""DenseNet121/169/201 (``keras.applications.densenet``; `Densely Connected
Convolutional Networks <https://arxiv.org/abs/1608.06993>`_): dense blocks of
BN-ReLU-conv pairs whose outputs are concatenated, joined by transitions."""

from __future__ import annotations

from lamina import layers
from lamina.applications import _builder
from lamina.applications._docs import document
from lamina.applications.imagenet_utils import decode_predictions
from lamina.applications.imagenet_utils import preprocess_input as _preprocess

__all__ = [
    "DenseNet121",
    "DenseNet169",
    "DenseNet201",
    "decode_predictions",
    "preprocess_input",
]

EPSILON = 1.001e-5
GROWTH_RATE = 32
WEIGHTS = {
    121: ("9d60b8095a5708f2dcce2bca79d332c7", "30ee3e1110167f948a6b9946edeeb738"),
    169: ("d699b8f76981ab1b30698df4c175e90b", "b8c4d4c20dd625c148057b9ff1c1176b"),
    201: ("1ceb130c1ea1b78c3bf6114dbdfd8807", "c13680b51ded0fb44dff2d8f86ac8bb1"),
}
BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32)}


def _bn_relu(req, x, name):
    x = layers.BatchNormalization(axis=req.positive_channel_axis, epsilon=EPSILON,
                                  name=f"{name}_bn")(x)  # fmt: skip
    return layers.Activation("relu", name=f"{name}_relu")(x)


def conv_block(req, x, name):
    """One dense layer: its ``GROWTH_RATE`` new channels join the input's."""
    y = _bn_relu(req, x, f"{name}_0")
    y = layers.Conv2D(4 * GROWTH_RATE, 1, use_bias=False, name=f"{name}_1_conv")(y)
    y = _bn_relu(req, y, f"{name}_1")
    y = layers.Conv2D(GROWTH_RATE, 3, padding="same", use_bias=False,
                      name=f"{name}_2_conv")(y)  # fmt: skip
    return layers.Concatenate(axis=req.positive_channel_axis, name=f"{name}_concat")(
        [x, y]
    )


def transition_block(req, x, reduction, name):
    x = _bn_relu(req, x, name)
    filters = int(x.shape[req.channel_axis] * reduction)
    x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def build(req, depth: int):
    def body(x):
        x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(x)
        x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
        x = _bn_relu(req, x, "conv1")
        x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
        x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
        for stage, blocks in enumerate(BLOCKS[depth], start=2):
            for i in range(1, blocks + 1):
                x = conv_block(req, x, name=f"conv{stage}_block{i}")
            if stage < 5:
                x = transition_block(req, x, 0.5, name=f"pool{stage}")
        x = layers.BatchNormalization(axis=req.positive_channel_axis, epsilon=EPSILON,
                                      name="bn")(x)  # fmt: skip
        return layers.Activation("relu", name="relu")(x)

    def top(req, x):
        return _builder.dense_top(req, x, "avg_pool", ("avg_pool", "max_pool"))

    stem = f"densenet{depth}_weights_tf_dim_ordering_tf_kernels"
    weight_file = _builder.WeightFile(f"{stem}.h5", f"{stem}_notop.h5",
                                      "densenet/", *WEIGHTS[depth])  # fmt: skip
    return _builder.build(req, body, top, weight_file=weight_file,
                          data_formats=("channels_last",))  # fmt: skip


DOC = """The DenseNet{depth} network (`Densely Connected Convolutional Networks
    <https://arxiv.org/abs/1608.06993>`_), channels_last only. Default input
    224x224, at least 32x32; inputs go through ``densenet.preprocess_input``
    ("torch").

    Args:
        {common}

    {returns}
    """


@document(DOC, depth=121)
def DenseNet121(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="densenet121",
):
    return build(_builder.request("DenseNet121", locals()), 121)


@document(DOC, depth=169)
def DenseNet169(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="densenet169",
):
    return build(_builder.request("DenseNet169", locals()), 169)


@document(DOC, depth=201)
def DenseNet201(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="densenet201",
):
    return build(_builder.request("DenseNet201", locals()), 201)


def preprocess_input(x, data_format=None):
    """``imagenet_utils.preprocess_input`` in "torch" mode: pixels scaled to
    [0, 1], then normalized per channel with ImageNet's mean and deviation."""
    return _preprocess(x, data_format=data_format, mode="torch")
