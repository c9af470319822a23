"""``keras.applications.resnet50``: ResNet50 alone (the Keras 2 module name)."""

from lamina.applications.resnet import ResNet50, decode_predictions, preprocess_input

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]
