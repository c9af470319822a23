"""Image preprocessing and augmentation layers on one transform core
(``base.BaseImagePreprocessingLayer`` and the maths in ``transforms``)."""

from lamina.layers.preprocessing.image.basic import CenterCrop, Rescaling, Resizing
from lamina.layers.preprocessing.image.geometric import (
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomShear,
    RandomTranslation,
    RandomZoom,
)

__all__ = [
    "CenterCrop",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomShear",
    "RandomTranslation",
    "RandomZoom",
    "Rescaling",
    "Resizing",
]
