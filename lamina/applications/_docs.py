"""The argument paragraphs every application's docstring shares, filled into
``{common}`` by ``document``."""

from __future__ import annotations

COMMON = """include_top: whether to include the classifier on top of the network.
        weights: ``None`` (random initialization), ``"imagenet"`` (Keras's
            ImageNet weights, read from Keras's cache ``~/.keras/models`` or
            ``$KERAS_HOME/models`` and downloaded there when absent), or the
            path of a weights file to load.
        input_tensor: optional tensor (the output of ``keras.Input()``) to use
            as the image input.
        input_shape: optional shape tuple, without the batch axis; only needed
            with ``include_top=False`` (else the default size below); 3 input
            channels with ImageNet weights.
        pooling: with ``include_top=False``: ``None`` (the 4D output of the last
            block), ``"avg"`` or ``"max"`` (global pooling to a 2D output).
        classes: number of classes of the classifier (``include_top=True``);
            1000 with ImageNet weights.
        classifier_activation: activation of the classifier (``None`` for
            logits); only ``None`` or ``"softmax"`` with pretrained weights.
        name: the model's name."""

RETURNS = """Returns:
        A ``keras.Model`` (``Functional``) with Keras's layer names, classes and
        order, so Keras's weight files load into it.

    Raises:
        ValueError: for bad arguments (``weights``, ``classes`` with ImageNet
            weights, ``input_shape``, ``pooling``, ``classifier_activation``).
        OSError: ``weights="imagenet"`` offline without the file in the cache
            (the message names the file and where to place it)."""


def document(doc=None, **fields):
    """A decorator filling ``{common}``, ``{returns}`` and ``fields`` into ``doc``
    (default: the function's own docstring), which becomes the docstring."""

    def decorate(fn):
        text = doc if doc is not None else fn.__doc__
        fn.__doc__ = text.format(common=COMMON, returns=RETURNS, **fields)
        return fn

    return decorate
