"""ConvNeXt Tiny/Small/Base/Large/XLarge (``keras.applications.convnext``;
`A ConvNet for the 2020s <https://arxiv.org/abs/2201.03545>`_), with the two
layers Keras defines for it, ``LayerScale`` and ``StochasticDepth``.
channels_last only."""

from __future__ import annotations

import numpy as np
import torch

from lamina import initializers, layers
from lamina.applications import _builder
from lamina.applications._docs import document
from lamina.applications.imagenet_utils import decode_predictions
from lamina.models import Sequential
from lamina.utils.validation import arg_error

__all__ = [
    "ConvNeXtBase",
    "ConvNeXtLarge",
    "ConvNeXtSmall",
    "ConvNeXtTiny",
    "ConvNeXtXLarge",
    "LayerScale",
    "StochasticDepth",
    "decode_predictions",
    "preprocess_input",
]

WEIGHTS_HASHES = {
    "convnext_tiny": ("8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
                      "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),
    "convnext_small": ("ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
                       "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab"),
    "convnext_base": ("52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
                      "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45"),
    "convnext_large": ("070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
                       "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd"),
    "convnext_xlarge": ("c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
                        "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05"),
}  # fmt: skip
MODEL_CONFIGS = {
    "tiny": ((3, 3, 9, 3), (96, 192, 384, 768)),
    "small": ((3, 3, 27, 3), (96, 192, 384, 768)),
    "base": ((3, 3, 27, 3), (128, 256, 512, 1024)),
    "large": ((3, 3, 27, 3), (192, 384, 768, 1536)),
    "xlarge": ((3, 3, 27, 3), (256, 512, 1024, 2048)),
}
EPSILON = 1e-6
MEAN = [0.485 * 255, 0.456 * 255, 0.406 * 255]
VARIANCE = [(0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2]


class StochasticDepth(layers.Layer):
    """Drops the whole residual branch of a sample with probability
    ``drop_path_rate`` while training (scaling the kept ones by
    ``1 / (1 - drop_path_rate)``); the identity in inference.

    Args:
        drop_path_rate: probability of dropping a sample's branch, in [0, 1].
    """

    _keras_module = "keras.src.applications.convnext"

    def __init__(self, drop_path_rate, **kwargs):
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate

    def call(self, x, training=None):
        if not training:
            return x
        keep_prob = 1 - self.drop_path_rate
        shape = (x.shape[0],) + (1,) * (x.ndim - 1)
        keep = torch.floor(
            keep_prob + torch.rand(shape, dtype=x.dtype, device=x.device)
        )
        return x / keep_prob * keep

    def get_config(self):
        return {**super().get_config(), "drop_path_rate": self.drop_path_rate}


class LayerScale(layers.Layer):
    """Multiplies the last axis by a learned per-channel scale (`Going deeper
    with Image Transformers <https://arxiv.org/abs/2103.17239>`_).

    Args:
        init_values: the scale's initial value.
        projection_dim: the number of channels.

    Weights:
        ``variable`` ``(projection_dim,)`` (Keras's unnamed weight).
    """

    _keras_module = "keras.src.applications.convnext"

    def __init__(self, init_values, projection_dim, **kwargs):
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, _):
        self.gamma = self.add_weight(
            shape=(self.projection_dim,),
            initializer=initializers.Constant(self.init_values),
            trainable=True,
        )

    def call(self, x):
        return x * self.gamma

    def get_config(self):
        return {
            **super().get_config(),
            "init_values": self.init_values,
            "projection_dim": self.projection_dim,
        }


def convnext_block(x, dim, drop_path_rate, layer_scale_init_value, name):
    """Depthwise 7x7 conv, LayerNorm, MLP (4x) and a scaled residual."""
    inputs = x
    x = layers.Conv2D(filters=dim, kernel_size=7, padding="same", groups=dim,
                      name=f"{name}_depthwise_conv")(x)  # fmt: skip
    x = layers.LayerNormalization(epsilon=EPSILON, name=f"{name}_layernorm")(x)
    x = layers.Dense(4 * dim, name=f"{name}_pointwise_conv_1")(x)
    x = layers.Activation("gelu", name=f"{name}_gelu")(x)
    x = layers.Dense(dim, name=f"{name}_pointwise_conv_2")(x)
    if layer_scale_init_value is not None:
        x = LayerScale(layer_scale_init_value, dim, name=f"{name}_layer_scale")(x)
    if drop_path_rate:
        layer = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")
    else:
        layer = layers.Activation("linear", name=f"{name}_identity")
    return inputs + layer(x)


def _downsampling(name, dims):
    stem = Sequential([
        layers.Conv2D(dims[0], kernel_size=4, strides=4, name=f"{name}_stem_conv"),
        layers.LayerNormalization(epsilon=EPSILON, name=f"{name}_stem_layernorm"),
    ], name=f"{name}_stem")  # fmt: skip
    return [stem] + [
        Sequential([
            layers.LayerNormalization(epsilon=EPSILON,
                                      name=f"{name}_downsampling_layernorm_{i}"),
            layers.Conv2D(dims[i + 1], kernel_size=2, strides=2,
                          name=f"{name}_downsampling_conv_{i}"),
        ], name=f"{name}_downsampling_block_{i}")
        for i in range(3)
    ]  # fmt: skip


def _body(req, x, depths, dims, drop_path_rate, layer_scale_init_value):
    name = req.name
    if req.extras["include_preprocessing"] and req.input_shape[-1] == 3:
        x = layers.Normalization(mean=MEAN, variance=VARIANCE,
                                 name=f"{name}_prestem_normalization")(x)  # fmt: skip
    rates = [float(r) for r in np.linspace(0.0, drop_path_rate, sum(depths))]
    done = 0
    for stage, downsample in enumerate(_downsampling(name, dims)):
        x = downsample(x)
        for j in range(depths[stage]):
            x = convnext_block(x, dims[stage], rates[done + j], layer_scale_init_value,
                               f"{name}_stage_{stage}_block_{j}")  # fmt: skip
        done += depths[stage]
    return x


def _top(req, x):
    name = req.name
    if req.include_top:
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = layers.LayerNormalization(epsilon=EPSILON, name=f"{name}_head_layernorm")(x)
        return layers.Dense(req.classes, activation=req.classifier_activation,
                            name=f"{name}_head_dense")(x)  # fmt: skip
    x = _builder.pooled(x, req.pooling)
    return layers.LayerNormalization(epsilon=EPSILON)(x)


def build(req, variant, drop_path_rate=0.0, layer_scale_init_value=1e-6):
    """ConvNeXt ``variant`` ('tiny', ..., 'xlarge')."""
    depths, dims = MODEL_CONFIGS[variant]
    weights_name = f"convnext_{variant}"
    if req.weights == "imagenet" and weights_name not in req.name:
        raise arg_error(req.owner, "name", f"a name containing {weights_name!r} "
                        "with weights='imagenet' (it names the file)", req.name)  # fmt: skip
    top_hash, notop_hash = WEIGHTS_HASHES[weights_name]
    weight_file = _builder.WeightFile(f"{req.name}.h5", f"{req.name}_notop.h5",
                                      "convnext/", top_hash, notop_hash)  # fmt: skip

    def body(x):
        return _body(req, x, depths, dims, drop_path_rate, layer_scale_init_value)

    return _builder.build(req, body, _top, weight_file=weight_file,
                          data_formats=("channels_last",))  # fmt: skip


DOC = """The ConvNeXt {variant} network (`A ConvNet for the 2020s
    <https://arxiv.org/abs/2201.03545>`_), channels_last only. Default input
    224x224, at least 32x32. The model normalizes its inputs itself (pixels in
    [0, 255]); ``convnext.preprocess_input`` is the identity.

    Args:
        include_preprocessing: whether the model starts with the
            ``Normalization`` of ImageNet's mean and variance (3 channels).
        {common}

    {returns}
    """


@document(DOC, variant="Tiny")
def ConvNeXtTiny(  # noqa: N802
    include_top=True,
    include_preprocessing=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="convnext_tiny",
):
    return build(_builder.request("ConvNeXtTiny", locals()), "tiny")


@document(DOC, variant="Small")
def ConvNeXtSmall(  # noqa: N802
    include_top=True,
    include_preprocessing=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="convnext_small",
):
    return build(_builder.request("ConvNeXtSmall", locals()), "small")


@document(DOC, variant="Base")
def ConvNeXtBase(  # noqa: N802
    include_top=True,
    include_preprocessing=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="convnext_base",
):
    return build(_builder.request("ConvNeXtBase", locals()), "base")


@document(DOC, variant="Large")
def ConvNeXtLarge(  # noqa: N802
    include_top=True,
    include_preprocessing=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="convnext_large",
):
    return build(_builder.request("ConvNeXtLarge", locals()), "large")


@document(DOC, variant="XLarge")
def ConvNeXtXLarge(  # noqa: N802
    include_top=True,
    include_preprocessing=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="convnext_xlarge",
):
    return build(_builder.request("ConvNeXtXLarge", locals()), "xlarge")


def preprocess_input(x, data_format=None):
    """The identity: ConvNeXt models normalize their inputs themselves (a
    placeholder kept for API consistency, as in Keras)."""
    return x
