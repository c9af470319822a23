"""Image preprocessing and augmentation layers on one transform core
(``base.BaseImagePreprocessingLayer`` and the maths in ``transforms``)."""

from lamina.layers.preprocessing.image.basic import CenterCrop, Rescaling, Resizing
from lamina.layers.preprocessing.image.color import (
    RandomBrightness,
    RandomColorDegeneration,
    RandomContrast,
    RandomGaussianBlur,
    RandomGrayscale,
    RandomHue,
    RandomInvert,
    RandomPosterization,
    RandomSaturation,
    RandomSharpness,
    Solarization,
)
from lamina.layers.preprocessing.image.composite import (
    AugMix,
    MaxNumBoundingBoxes,
    Pipeline,
    RandAugment,
    RandomColorJitter,
)
from lamina.layers.preprocessing.image.geometric import (
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomShear,
    RandomTranslation,
    RandomZoom,
)
from lamina.layers.preprocessing.image.histogram import (
    AutoContrast,
    ContrastLimitedAdaptiveHistogramEqualization,
    Equalization,
)
from lamina.layers.preprocessing.image.mixing import CutMix, MixUp, RandomErasing
from lamina.layers.preprocessing.image.warp import (
    RandomElasticTransform,
    RandomPerspective,
)

__all__ = [
    "AugMix",
    "AutoContrast",
    "MaxNumBoundingBoxes",
    "Pipeline",
    "RandAugment",
    "RandomColorJitter",
    "ContrastLimitedAdaptiveHistogramEqualization",
    "CutMix",
    "MixUp",
    "RandomElasticTransform",
    "RandomErasing",
    "RandomPerspective",
    "Equalization",
    "RandomBrightness",
    "RandomColorDegeneration",
    "RandomContrast",
    "RandomGaussianBlur",
    "RandomGrayscale",
    "RandomHue",
    "RandomInvert",
    "RandomPosterization",
    "RandomSaturation",
    "RandomSharpness",
    "Solarization",
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
