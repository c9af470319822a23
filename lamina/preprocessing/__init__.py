"""``keras.preprocessing``: the image/sequence utilities and the dataset helpers
under their Keras 2 home (the preprocessing *layers* live in
``lamina.layers``)."""

from lamina.preprocessing import image, sequence
from lamina.utils.image_dataset import image_dataset_from_directory
from lamina.utils.text_dataset import text_dataset_from_directory
from lamina.utils.timeseries_dataset import timeseries_dataset_from_array

__all__ = [
    "image",
    "image_dataset_from_directory",
    "sequence",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]
