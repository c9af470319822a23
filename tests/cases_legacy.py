"""Keras 1/2 layer names Keras 3 dropped: they build modern layers and are tested
in tests/test_legacy.py (Keras 3 has no class to compare them with)."""

KERAS_FREE_LAYERS = (
    "AtrousConvolution1D",
    "AtrousConvolution2D",
    "Deconv2D",
    "Deconv3D",
    "Deconvolution2D",
    "Deconvolution3D",
    "Merge",
    "ThresholdedReLU",
)
CASES = []
ERROR_CASES = []
