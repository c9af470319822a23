"""InceptionResNetV2 (``keras.applications.inception_resnet_v2``;
`Inception-v4, Inception-ResNet and the Impact of Residual Connections on
Learning <https://arxiv.org/abs/1602.07261>`_)."""

from __future__ import annotations

from lamina import config, layers
from lamina.applications import _builder
from lamina.applications._docs import document
from lamina.applications.imagenet_utils import decode_predictions
from lamina.applications.imagenet_utils import preprocess_input as _preprocess

__all__ = ["InceptionResNetV2", "decode_predictions", "preprocess_input"]

WEIGHTS = _builder.WeightFile(
    "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
    "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "inception_resnet_v2/",
    "e693bd0210a403b3192acc6073ad2e96",
    "d19885ff4a710c122648d3b5c3b684e4",
)


class CustomScaleLayer(layers.Layer):
    """``inputs[0] + inputs[1] * scale``: the scaled residual sum of the
    Inception-ResNet blocks (Keras's class of the same name, so files load).

    Args:
        scale: the factor of the residual branch.
    """

    _keras_module = "keras.src.applications.inception_resnet_v2"

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}

    def call(self, inputs):
        return inputs[0] + inputs[1] * self.scale


def _axis():
    return 1 if config.image_data_format() == "channels_first" else 3


def conv2d_bn(x, filters, kernel_size, strides=1, padding="same",
              activation="relu", use_bias=False, name=None):  # fmt: skip
    """Conv - BN (no scale, unless the conv has a bias) - activation."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                      use_bias=use_bias, name=name)(x)  # fmt: skip
    if not use_bias:
        bn_name = None if name is None else f"{name}_bn"
        x = layers.BatchNormalization(axis=_axis(), scale=False, name=bn_name)(x)
    if activation is not None:
        x = layers.Activation(activation, name=None if name is None else f"{name}_ac")(
            x
        )
    return x


def _chain(x, specs):
    for spec in specs:
        x = conv2d_bn(x, *spec[:2], **(spec[2] if len(spec) > 2 else {}))
    return x


# The branches of each residual block type, as conv2d_bn chains.
BLOCKS = {
    "block35": [[(32, 1)], [(32, 1), (32, 3)], [(32, 1), (48, 3), (64, 3)]],
    "block17": [[(192, 1)], [(128, 1), (160, [1, 7]), (192, [7, 1])]],
    "block8": [[(192, 1)], [(192, 1), (224, [1, 3]), (256, [3, 1])]],
}


def inception_resnet_block(x, scale, block_type, block_idx, activation="relu"):
    """Branches concatenated, projected by a 1x1 conv and added, scaled."""
    branches = [_chain(x, chain) for chain in BLOCKS[block_type]]
    name = f"{block_type}_{block_idx}"
    mixed = layers.Concatenate(axis=_axis(), name=f"{name}_mixed")(branches)
    up = conv2d_bn(mixed, x.shape[_axis()], 1, activation=None, use_bias=True,
                   name=f"{name}_conv")  # fmt: skip
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=f"{name}_ac")(x)
    return x


VALID2 = {"strides": 2, "padding": "valid"}


def _reduction(x, chains, name):
    branches = [_chain(x, chain) for chain in chains]
    branches.append(layers.MaxPooling2D(3, strides=2, padding="valid")(x))
    return layers.Concatenate(axis=_axis(), name=name)(branches)


def body(x):
    x = _chain(x, [(32, 3, VALID2), (32, 3, {"padding": "valid"}), (64, 3)])
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = _chain(x, [(80, 1, {"padding": "valid"}), (192, 3, {"padding": "valid"})])
    x = layers.MaxPooling2D(3, strides=2)(x)
    branches = [_chain(x, chain) for chain in
                [[(96, 1)], [(48, 1), (64, 5)], [(64, 1), (96, 3), (96, 3)]]]  # fmt: skip
    pool = layers.AveragePooling2D(3, strides=1, padding="same")(x)
    branches.append(conv2d_bn(pool, 64, 1))
    x = layers.Concatenate(axis=_axis(), name="mixed_5b")(branches)
    for i in range(1, 11):
        x = inception_resnet_block(x, scale=0.17, block_type="block35", block_idx=i)
    x = _reduction(x, [[(384, 3, VALID2)], [(256, 1), (256, 3), (384, 3, VALID2)]],
                   "mixed_6a")  # fmt: skip
    for i in range(1, 21):
        x = inception_resnet_block(x, scale=0.1, block_type="block17", block_idx=i)
    x = _reduction(x, [[(256, 1), (384, 3, VALID2)], [(256, 1), (288, 3, VALID2)],
                       [(256, 1), (288, 3), (320, 3, VALID2)]], "mixed_7a")  # fmt: skip
    for i in range(1, 10):
        x = inception_resnet_block(x, scale=0.2, block_type="block8", block_idx=i)
    x = inception_resnet_block(x, scale=1.0, activation=None, block_type="block8",
                               block_idx=10)  # fmt: skip
    return conv2d_bn(x, 1536, 1, name="conv_7b")


@document()
def InceptionResNetV2(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="inception_resnet_v2",
):
    """The Inception-ResNet-v2 network (`Inception-v4, Inception-ResNet and the
    Impact of Residual Connections on Learning
    <https://arxiv.org/abs/1602.07261>`_). Default input 299x299, at least
    75x75; inputs go through ``inception_resnet_v2.preprocess_input`` ("tf").

    Args:
        {common}

    {returns}
    """
    req = _builder.request("InceptionResNetV2", locals())
    return _builder.build(req, body,
                          lambda req, x: _builder.dense_top(req, x, "avg_pool"),
                          default_size=299, min_size=75, weight_file=WEIGHTS)  # fmt: skip


def preprocess_input(x, data_format=None):
    """``imagenet_utils.preprocess_input`` in "tf" mode: pixels scaled to
    [-1, 1]."""
    return _preprocess(x, data_format=data_format, mode="tf")
