"""ResNet50/101/152 (``keras.applications.resnet``) and the ResNet builder that
ResNetV2 shares: stacks of bottleneck blocks, post-activation (v1) or
pre-activation (v2)."""

from __future__ import annotations

from lamina import layers
from lamina.applications import _builder
from lamina.applications._docs import document
from lamina.applications.imagenet_utils import decode_predictions
from lamina.applications.imagenet_utils import preprocess_input as _preprocess

__all__ = [
    "ResNet101",
    "ResNet152",
    "ResNet50",
    "decode_predictions",
    "preprocess_input",
]

WEIGHTS_HASHES = {
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}  # fmt: skip
EPSILON = 1.001e-5
# Blocks per stage (conv2..conv5), by depth.
STAGES = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def weight_file(weights_name: str) -> _builder.WeightFile:
    top_hash, notop_hash = WEIGHTS_HASHES[weights_name]
    stem = f"{weights_name}_weights_tf_dim_ordering_tf_kernels"
    return _builder.WeightFile(f"{stem}.h5", f"{stem}_notop.h5", "resnet/",
                               top_hash, notop_hash)  # fmt: skip


def _bn(req, name):
    return layers.BatchNormalization(
        axis=req.positive_channel_axis, epsilon=EPSILON, name=name
    )


def block_v1(req, x, filters, stride=1, conv_shortcut=True, name=None):
    """Bottleneck block, batch norm and ReLU after each convolution."""
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride,
                                 name=f"{name}_0_conv")(x)  # fmt: skip
        shortcut = _bn(req, f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = _bn(req, f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, 3, padding="SAME", name=f"{name}_2_conv")(x)
    x = _bn(req, f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = _bn(req, f"{name}_3_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def block_v2(req, x, filters, stride=1, conv_shortcut=False, name=None):
    """Pre-activation bottleneck block."""
    preact = _bn(req, f"{name}_preact_bn")(x)
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride,
                                 name=f"{name}_0_conv")(preact)  # fmt: skip
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False,
                      name=f"{name}_1_conv")(preact)  # fmt: skip
    x = _bn(req, f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, 3, strides=stride, use_bias=False,
                      name=f"{name}_2_conv")(x)  # fmt: skip
    x = _bn(req, f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


def stack_v1(req, x, filters, blocks, stride1=2, name=None):
    x = block_v1(req, x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = block_v1(req, x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def stack_v2(req, x, filters, blocks, stride1=2, name=None):
    """V2 stacks downsample in their last block."""
    x = block_v2(req, x, filters, conv_shortcut=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = block_v2(req, x, filters, name=f"{name}_block{i}")
    return block_v2(req, x, filters, stride=stride1, name=f"{name}_block{blocks}")


def build(req, depth: int, preact: bool, weights_name: str):
    """ResNet{depth} (v1) or ResNet{depth}V2 (``preact``)."""
    stages = STAGES[depth]

    def body(x):
        x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(x)
        x = layers.Conv2D(64, 7, strides=2, use_bias=True, name="conv1_conv")(x)
        if not preact:
            x = _bn(req, "conv1_bn")(x)
            x = layers.Activation("relu", name="conv1_relu")(x)
        x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
        x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
        for stage, (filters, blocks) in enumerate(zip((64, 128, 256, 512), stages)):
            name = f"conv{stage + 2}"
            if preact:
                stride1 = 1 if stage == 3 else 2
                x = stack_v2(req, x, filters, blocks, stride1=stride1, name=name)
            else:
                stride1 = 1 if stage == 0 else 2
                x = stack_v1(req, x, filters, blocks, stride1=stride1, name=name)
        if preact:
            x = _bn(req, "post_bn")(x)
            x = layers.Activation("relu", name="post_relu")(x)
        return x

    def top(req, x):
        return _builder.dense_top(req, x, "avg_pool", ("avg_pool", "max_pool"))

    return _builder.build(req, body, top, weight_file=weight_file(weights_name))


DOC = """The ResNet{depth}{v} network (`{paper} <{url}>`_). Default input
    224x224, at least 32x32; inputs go through ``{module}.preprocess_input``
    ({mode}).

    Args:
        {common}

    {returns}
    """
V1 = dict(v="", paper="Deep Residual Learning for Image Recognition",
          url="https://arxiv.org/abs/1512.03385", module="resnet", mode='"caffe"')  # fmt: skip


@document(DOC, depth=50, **V1)
def ResNet50(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet50",
):
    return build(_builder.request("ResNet50", locals()), 50, False, "resnet50")


@document(DOC, depth=101, **V1)
def ResNet101(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet101",
):
    return build(_builder.request("ResNet101", locals()), 101, False, "resnet101")


@document(DOC, depth=152, **V1)
def ResNet152(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet152",
):
    return build(_builder.request("ResNet152", locals()), 152, False, "resnet152")


def preprocess_input(x, data_format=None):
    """``imagenet_utils.preprocess_input`` in "caffe" mode: RGB to BGR, then
    each channel zero-centred on ImageNet's mean, no scaling."""
    return _preprocess(x, data_format=data_format, mode="caffe")
