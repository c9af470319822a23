"""VGG19 (``keras.applications.vgg19``)."""

from __future__ import annotations

from lamina.applications import _builder, _vgg
from lamina.applications._docs import document
from lamina.applications.imagenet_utils import decode_predictions
from lamina.applications.imagenet_utils import preprocess_input as _preprocess

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]

WEIGHTS = _builder.WeightFile(
    top="vgg19_weights_tf_dim_ordering_tf_kernels.h5",
    notop="vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
    folder="vgg19/",
    top_hash="cbe5617147190e668d6c5d5026f83318",
    notop_hash="253f8cb515780f3b799900260a226db6",
)


@document()
def VGG19(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="vgg19",
):
    """The VGG19 network (`Very Deep Convolutional Networks for Large-Scale Image
    Recognition <https://arxiv.org/abs/1409.1556>`_). Default input 224x224,
    at least 32x32; inputs go through ``vgg19.preprocess_input`` ("caffe").

    Args:
        {common}

    {returns}

    Example:
    >>> import lamina as keras
    >>> model = keras.applications.VGG19(weights=None, include_top=False,
    ...                                  input_shape=(32, 32, 3), pooling="avg")
    >>> model.output.shape
    (None, 512)
    """
    req = _builder.request("VGG19", locals())
    return _vgg.build(req, (2, 2, 4, 4, 4), WEIGHTS)


def preprocess_input(x, data_format=None):
    """``imagenet_utils.preprocess_input`` in "caffe" mode: RGB to BGR, then
    each channel zero-centred on ImageNet's mean, no scaling."""
    return _preprocess(x, data_format=data_format, mode="caffe")
