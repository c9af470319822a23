"""ResNet50V2/101V2/152V2 (``keras.applications.resnet_v2``): the
pre-activation ResNets (`Identity Mappings in Deep Residual Networks
<https://arxiv.org/abs/1603.05027>`_)."""

from __future__ import annotations

from lamina.applications import _builder, resnet
from lamina.applications._docs import document
from lamina.applications.imagenet_utils import decode_predictions
from lamina.applications.imagenet_utils import preprocess_input as _preprocess

__all__ = [
    "ResNet101V2",
    "ResNet152V2",
    "ResNet50V2",
    "decode_predictions",
    "preprocess_input",
]

V2 = dict(v="V2", paper="Identity Mappings in Deep Residual Networks",
          url="https://arxiv.org/abs/1603.05027", module="resnet_v2", mode='"tf"')  # fmt: skip


@document(resnet.DOC, depth=50, **V2)
def ResNet50V2(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet50v2",
):
    return resnet.build(
        _builder.request("ResNet50V2", locals()), 50, True, "resnet50v2"
    )


@document(resnet.DOC, depth=101, **V2)
def ResNet101V2(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet101v2",
):
    req = _builder.request("ResNet101V2", locals())
    return resnet.build(req, 101, True, "resnet101v2")


@document(resnet.DOC, depth=152, **V2)
def ResNet152V2(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet152v2",
):
    req = _builder.request("ResNet152V2", locals())
    return resnet.build(req, 152, True, "resnet152v2")


def preprocess_input(x, data_format=None):
    """``imagenet_utils.preprocess_input`` in "tf" mode: pixels scaled to
    [-1, 1]."""
    return _preprocess(x, data_format=data_format, mode="tf")
