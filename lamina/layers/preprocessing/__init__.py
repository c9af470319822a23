"""Preprocessing layers: structured data and text (and, beside them, images and
audio). Each module lists its layers; ``__all__`` gathers them."""

from lamina.layers.preprocessing import image
from lamina.layers.preprocessing.audio import MelSpectrogram, STFTSpectrogram
from lamina.layers.preprocessing.category_encoding import CategoryEncoding
from lamina.layers.preprocessing.discretization import Discretization
from lamina.layers.preprocessing.hashing import HashedCrossing, Hashing
from lamina.layers.preprocessing.image import *  # noqa: F403
from lamina.layers.preprocessing.integer_lookup import IntegerLookup
from lamina.layers.preprocessing.normalization import Normalization
from lamina.layers.preprocessing.string_lookup import StringLookup
from lamina.layers.preprocessing.text_vectorization import TextVectorization

__all__ = [
    "CategoryEncoding",
    "Discretization",
    "HashedCrossing",
    "Hashing",
    "IntegerLookup",
    "MelSpectrogram",
    "Normalization",
    "STFTSpectrogram",
    "StringLookup",
    "TextVectorization",
    *image.__all__,
]
