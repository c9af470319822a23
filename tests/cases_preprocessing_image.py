"""Image and audio preprocessing layers against Keras 3 (torch backend).

Deterministic layers are compared value for value. Random layers are checked
for the inference identity, shapes, configs and ``seed`` reproducibility, and,
through ``same_transformation``, for their arithmetic: Keras's layer draws a
transformation once and both layers apply that same transformation with
``transform_images`` (the draws themselves come from different generators).
Bounding boxes and segmentation masks: tests/test_preprocessing_image.py.
"""

import random

import keras
import numpy as np
import torch

from tests.oracle import ATOL, Case, ErrorCase, Input

RANDOM = ("inference_identity", "seed", "shapes")


def same_transformation(ours, theirs, feed):
    """Both layers apply the transformation Keras's layer draws, to a batch and
    to one image (Keras's colour layers fail on one image: its answer for the
    batch of that one image is the reference)."""
    batch = feed.first
    # Keras's AugMix picks its chains' layers with Python's global `random`,
    # whatever its seed: without this the draw, and whether some pixel lands on
    # a rounding boundary of a posterization, changed from run to run.
    random.seed(17)
    for images, reference in ((batch, batch), (batch[0], batch[:1])):
        transformation = theirs.get_random_transformation(images, training=True)
        # Copies: Keras's torch affine_transform swaps entries of its argument in
        # place, RandomBrightness adds to its images in place.
        actual = ours.transform_images(torch.as_tensor(images), copy(transformation))
        expected = keras.ops.convert_to_numpy(
            theirs.transform_images(torch.tensor(reference), copy(transformation))
        ).reshape(actual.shape)
        np.testing.assert_allclose(actual.numpy(), expected, atol=ATOL, rtol=1e-5)


def same_policy_steps(ours, theirs, feed):
    """RandAugment applies the chosen layers of Keras's draw in order. (Keras's
    own call on torch differs: RandomBrightness adds its delta to the images in
    place, so the unchosen brightness step leaks into the result.)"""
    for images, reference in (
        (feed.first, feed.first),
        (feed.first[0], feed.first[:1]),
    ):
        transformation = theirs.get_random_transformation(images, training=True)
        expected = torch.tensor(reference)
        for index in transformation["layer_idxes"].tolist():
            name = theirs._AUGMENT_LAYERS[index]
            step = copy(transformation["transforms"][name])
            expected = getattr(theirs, name).transform_images(expected, step)
        actual = ours.transform_images(torch.as_tensor(images), copy(transformation))
        expected = keras.ops.convert_to_numpy(expected).reshape(actual.shape)
        np.testing.assert_allclose(actual.numpy(), expected, atol=1e-4, rtol=1e-5)


def copy(transformation):
    """A copy of a transformation, its tensors cloned."""
    if isinstance(transformation, dict):
        return {key: copy(value) for key, value in transformation.items()}
    if isinstance(transformation, torch.Tensor):
        return transformation.clone()
    return transformation


def _random(layer, kwargs, inputs=(2, 6, 7, 3), checks=RANDOM, **options):
    checks = (*checks, same_transformation)
    return Case(layer, kwargs, inputs, checks=checks, **options)


IMAGES = Input((2, 6, 7, 3), "float32", "uniform")
IMAGES_255 = Input((2, 6, 7, 3), "float32", "ints:256")
CHANNELS_FIRST = Input((2, 3, 6, 7), "float32", "uniform")

CASES = [
    # Rescaling
    Case("Rescaling", {"scale": 1 / 255.0}, IMAGES_255),
    Case("Rescaling", {"scale": 1 / 127.5, "offset": -1.0}, (2, 4, 3)),
    Case(
        "Rescaling", {"scale": [0.5, 1.0, 2.0], "offset": [0.0, 1.0, 2.0]}, (2, 5, 3)
    ),  # fmt: skip
    # Resizing: every interpolation Keras on torch shares with TensorFlow
    Case("Resizing", {"height": 4, "width": 5}, IMAGES),
    Case("Resizing", {"height": 9, "width": 10, "interpolation": "nearest"}, IMAGES),
    Case("Resizing", {"height": 3, "width": 4, "antialias": True}, IMAGES),
    Case("Resizing", {"height": 4, "width": 3, "crop_to_aspect_ratio": True}, IMAGES),
    Case(
        "Resizing",
        {"height": 4, "width": 3, "pad_to_aspect_ratio": True, "fill_value": 0.5},
        IMAGES,
    ),  # fmt: skip
    Case(
        "Resizing",
        {"height": 4, "width": 5, "data_format": "channels_first"},
        CHANNELS_FIRST,
    ),  # fmt: skip
    Case(
        "Resizing",
        {"height": 4, "width": 5},
        Input((6, 7, 3), "float32"),
        id="Resizing-unbatched",
        symbolic=False,
    ),  # fmt: skip  (no batch axis)
    # CenterCrop: a crop, and an upscale of the aspect-ratio window
    Case("CenterCrop", {"height": 4, "width": 5}, IMAGES),
    Case("CenterCrop", {"height": 8, "width": 5}, IMAGES),
    Case(
        "CenterCrop",
        {"height": 3, "width": 3, "data_format": "channels_first"},
        CHANNELS_FIRST,
    ),  # fmt: skip
    # Geometric augmentation
    # (8 images: two seeds flipping all alike would be a 1-in-256 fluke)
    _random("RandomFlip", {"seed": 1}, (8, 4, 5, 3)),
    _random("RandomFlip", {"mode": "horizontal", "seed": 2}, (8, 4, 5, 3)),
    _random(
        "RandomFlip",
        {"mode": "vertical", "seed": 3, "data_format": "channels_first"},
        (8, 3, 4, 5),
    ),  # fmt: skip
    _random("RandomRotation", {"factor": 0.2, "seed": 1}),
    _random(
        "RandomRotation",
        {
            "factor": (-0.1, 0.3),
            "fill_mode": "constant",
            "fill_value": 0.5,
            "interpolation": "nearest",
            "seed": 1,
        },
    ),  # fmt: skip
    _random(
        "RandomRotation",
        {
            "factor": 0.3,
            "fill_mode": "wrap",
            "seed": 1,
            "data_format": "channels_first",
        },
        (2, 3, 6, 7),
    ),  # fmt: skip
    _random("RandomZoom", {"height_factor": 0.3, "seed": 1}),
    _random(
        "RandomZoom",
        {
            "height_factor": (-0.3, -0.1),
            "width_factor": 0.4,
            "fill_mode": "nearest",
            "seed": 1,
        },
    ),  # fmt: skip
    _random(
        "RandomTranslation", {"height_factor": 0.2, "width_factor": 0.3, "seed": 1}
    ),  # fmt: skip
    _random(
        "RandomTranslation",
        {
            "height_factor": (-0.5, 0.2),
            "width_factor": 0.1,
            "fill_mode": "constant",
            "seed": 1,
        },
    ),  # fmt: skip
    _random(
        "RandomShear", {"x_factor": (0.1, 0.3), "y_factor": (0.1, 0.2), "seed": 1}
    ),  # fmt: skip
    # Keras writes x_factor=0.3 as (-0.3, 0.3), which its own from_config refuses;
    # lamina writes the argument as given, so the file loads in both.
    _random(
        "RandomShear",
        {"x_factor": 0.3, "seed": 1},
        config_skip=("x_factor", "y_factor"),
    ),
    # RandomCrop returns its input unchanged at inference, as Keras's does (its
    # symbolic shape is the crop's: Keras has the same mismatch).
    Case(
        "RandomCrop",
        {"height": 4, "width": 5, "seed": 1},
        (2, 6, 7, 3),
        checks=("inference_identity", "seed", same_transformation),
        symbolic=False,
    ),
    Case(
        "RandomCrop",
        {"height": 8, "width": 5, "seed": 1},
        (2, 6, 7, 3),
        checks=("inference_identity", same_transformation),
        symbolic=False,
    ),
]

UNIT = {"value_range": (0, 1)}

CASES += [
    # Colour augmentation (IMAGES_255: integer values in a float32 array)
    _random("RandomBrightness", {"factor": 0.2, "seed": 1}, IMAGES_255),
    _random("RandomBrightness", {"factor": (-0.3, 0.1), **UNIT, "seed": 1}, IMAGES),
    _random("RandomContrast", {"factor": 0.5, "seed": 1}, IMAGES_255),
    _random(
        "RandomContrast",
        {"factor": (0.2, 0.6), **UNIT, "seed": 1, "data_format": "channels_first"},
        CHANNELS_FIRST,
    ),  # fmt: skip
    _random("RandomSaturation", {"factor": 0.8, **UNIT, "seed": 1}, IMAGES),
    _random(
        "RandomSaturation",
        {"factor": (0.2, 0.9), **UNIT, "seed": 1, "data_format": "channels_first"},
        CHANNELS_FIRST,
    ),  # fmt: skip
    _random("RandomHue", {"factor": 0.8, "seed": 1}, IMAGES_255),
    _random(
        "RandomHue",
        {"factor": (0.2, 0.9), **UNIT, "seed": 1, "data_format": "channels_first"},
        CHANNELS_FIRST,
    ),  # fmt: skip
    _random("RandomColorDegeneration", {"factor": 0.8, "seed": 1}, IMAGES_255),
    # (Keras's RandomGrayscale config has no seed: no seed check)
    _random(
        "RandomGrayscale",
        {"factor": 0.5, "seed": 1},
        Input((8, 4, 5, 3)),
        checks=("inference_identity", "shapes"),
    ),  # fmt: skip
    _random("RandomInvert", {"factor": 0.7, **UNIT, "seed": 1}, Input((8, 4, 5, 3))),
    _random("RandomPosterization", {"factor": (1, 6), "seed": 1}, IMAGES_255),
    _random("RandomPosterization", {"factor": 3, **UNIT, "seed": 1}, IMAGES),
    _random("RandomSharpness", {"factor": 0.9, "seed": 1}, IMAGES_255),
    _random(
        "RandomSharpness",
        {"factor": (0.1, 0.9), **UNIT, "seed": 1, "data_format": "channels_first"},
        CHANNELS_FIRST,
    ),  # fmt: skip
    _random(
        "RandomGaussianBlur",
        {"factor": 0.8, "kernel_size": 3, "sigma": (0.5, 2.0), **UNIT, "seed": 1},
        IMAGES,
    ),  # fmt: skip
    _random(
        "Solarization",
        {"addition_factor": 0.3, "threshold_factor": (0.2, 0.8), "seed": 1},
        IMAGES_255,
    ),  # fmt: skip
    # Deterministic: AutoContrast always, Equalization and the default
    # Solarization (invert all) in a direct call (training, as in Keras).
    Case("AutoContrast", {}, IMAGES_255, grads=False),
    Case("AutoContrast", UNIT, IMAGES, grads=False),
    Case("Equalization", {}, IMAGES_255, grads=False),
    Case("Equalization", {"bins": 16, **UNIT}, IMAGES, grads=False),
    Case("Solarization", {}, IMAGES_255),
    # CLAHE: Keras on torch counts histograms in int64 (one_hot's default
    # there), so a fractional clip level (clip_limit * tile pixels / 256) is
    # truncated; TensorFlow and JAX count in float32, as lamina does. The cases
    # use whole clip levels (64-pixel tiles at 4.0, 32-pixel tiles at 8.0);
    # tests/test_preprocessing_image.py checks a fractional one against NumPy.
    # Images that do not divide into tiles are padded "symmetric" (edge
    # repeated, as TensorFlow and JAX); Keras on torch replicates the edge
    # instead, so the cases use sizes that divide.
    Case(
        "ContrastLimitedAdaptiveHistogramEqualization",
        {"tile_grid_size": (2, 2)},
        Input((2, 16, 16, 3), "float32", "ints:256"),
        grads=False,
    ),  # fmt: skip
    Case(
        "ContrastLimitedAdaptiveHistogramEqualization",
        {
            "tile_grid_size": (2, 4),
            "clip_limit": 8.0,
            **UNIT,
            "data_format": "channels_first",
        },
        Input((2, 3, 16, 16), "float32", "uniform"),
        grads=False,
    ),  # fmt: skip
    Case(
        "ContrastLimitedAdaptiveHistogramEqualization",
        {"tile_grid_size": (4, 4), "clip_limit": 0.0},
        Input((2, 16, 16, 3), "float32", "ints:256"),
        grads=False,
    ),  # fmt: skip
]

CASES += [
    # Mixing and erasing (8 images: the seed check compares whole batches)
    _random("MixUp", {"alpha": 0.4, "seed": 1}, Input((8, 4, 5, 3))),
    _random("CutMix", {"seed": 1}, Input((8, 6, 7, 3))),
    _random(
        "CutMix",
        {"factor": (0.3, 0.8), "seed": 1, "data_format": "channels_first"},
        Input((8, 3, 6, 7)),
    ),  # fmt: skip
    _random("RandomErasing", {"seed": 1}, IMAGES_255),
    _random(
        "RandomErasing",
        {
            "factor": 0.8,
            "scale": (0.1, 0.4),
            "fill_value": (0.1, 0.5, 0.9),
            **UNIT,
            "seed": 1,
        },
        Input((8, 6, 7, 3), "float32", "uniform"),
    ),  # fmt: skip
]

CASES += [
    # (8 images: each is warped with probability about 1/2)
    _random(
        "RandomPerspective",
        {"scale": 0.4, "seed": 1},
        Input((8, 6, 7, 3), "float32", "uniform"),
    ),  # fmt: skip
    _random(
        "RandomPerspective",
        {
            "factor": 0.8,
            "scale": 0.3,
            "fill_value": 0.5,
            "interpolation": "nearest",
            "seed": 1,
            "data_format": "channels_first",
        },
        Input((8, 3, 6, 7), "float32", "uniform"),
    ),  # fmt: skip
    # The displacement field is noise from each library's generator: shapes,
    # identity and seeds only (the field maths: lamina.ops.image tests).
    Case(
        "RandomElasticTransform",
        {"scale": 0.5, **UNIT, "seed": 1},
        IMAGES,
        checks=RANDOM,
    ),  # fmt: skip
]

CASES += [
    # Policies: their nested transformations are Keras's, key for key.
    Case(
        "RandAugment", {"seed": 1}, IMAGES_255, checks=(*RANDOM, same_policy_steps)
    ),  # fmt: skip
    Case(
        "RandAugment",
        {
            "num_ops": 3,
            "factor": (0.2, 0.7),
            **UNIT,
            "interpolation": "nearest",
            "seed": 1,
        },
        IMAGES,
        checks=(*RANDOM, same_policy_steps),
    ),  # fmt: skip
    _random("AugMix", {"seed": 1}, IMAGES_255),
    _random(
        "AugMix",
        {
            "num_chains": 2,
            "chain_depth": 2,
            "all_ops": False,
            "factor": 0.5,
            **UNIT,
            "seed": 1,
        },
        IMAGES,
    ),  # fmt: skip
    # Draws inside transform_images, as Keras's: no transformation to share.
    Case(
        "RandomColorJitter",
        {
            "brightness_factor": 0.2,
            "contrast_factor": 0.3,
            "saturation_factor": 0.6,
            "hue_factor": 0.3,
            "seed": 1,
        },
        IMAGES_255,
        checks=RANDOM,
    ),  # fmt: skip
    # Images pass through (boxes: tests/test_preprocessing_image.py).
    Case("MaxNumBoundingBoxes", {"max_number": 3}, IMAGES, grads=False),
    # (named sub-layers: auto names count differently in the two libraries)
    Case(
        "Pipeline",
        build=lambda L: L.Pipeline(
            [L.Rescaling(0.5, name="scale"), L.CenterCrop(4, 5, name="crop")]
        ),
        inputs=IMAGES,
        also_covers=("Rescaling", "CenterCrop"),
    ),  # fmt: skip
    Case(
        "Pipeline",
        build=lambda L: L.Pipeline(
            [
                L.RandomFlip(seed=1, name="flip"),
                L.RandomRotation(0.1, seed=2, name="rotate"),
            ]
        ),
        inputs=IMAGES,
        checks=("inference_identity", "shapes"),
        # Keras traces a symbolic Pipeline of random warps for ~40 s; the
        # symbolic step runs on the deterministic Pipeline above.
        id="Pipeline-random",
        symbolic=False,
    ),  # fmt: skip
]

ERROR_CASES = [
    # Keras accepts these at construction and fails (or does nothing) later.
    ErrorCase(
        "Resizing",
        {"height": 0, "width": 2},
        r"`height` must be an integer",
        keras_raises=False,
    ),  # fmt: skip
    ErrorCase(
        "Resizing",
        {"height": 2, "width": 2, "interpolation": "cubic"},
        r"`interpolation` must be one of",
        keras_raises=False,
    ),  # fmt: skip
    ErrorCase(
        "RandomFlip", {"mode": "diagonal"}, r"`mode` must be one of", keras_raises=False
    ),  # fmt: skip
    ErrorCase(
        "CenterCrop", {"height": 2, "width": 2}, r"rank between 3 and 4", inputs=(2, 3)
    ),  # fmt: skip
    ErrorCase("RandomRotation", {"factor": 2.0}, r"`factor` must be a number"),
    ErrorCase(
        "RandomRotation",
        {"factor": 0.1, "fill_mode": "mirror"},
        r"`fill_mode` must be one of",
        keras_raises=NotImplementedError,
    ),  # fmt: skip
    ErrorCase("RandomZoom", {"height_factor": -1.0}, r"`height_factor` must be"),
    ErrorCase(
        "RandomTranslation",
        {"height_factor": (0.1, 0.2, 0.3), "width_factor": 0.1},
        r"`height_factor` must",
    ),  # fmt: skip
    ErrorCase("RandomShear", {"x_factor": 1.5}, r"`x_factor` must be"),
]

# STFTSpectrogram: every mode once, then frame sizes, padding, expand_dims and
# data formats; its kernels (windows, periodic, scaling) are compared at build
# in tests/test_preprocessing_image.py (the cases copy Keras's weights). Keras
# needs scipy for its windows (a dev dependency; lamina computes them itself).
STFT_SIGNAL = Input((2, 40, 2), "float32", "uniform")
STFT_BASE = {"frame_length": 8, "frame_step": 4}
CASES += [
    Case("STFTSpectrogram", {**STFT_BASE, "mode": mode}, STFT_SIGNAL)
    for mode in ("log", "magnitude", "psd", "real", "imag", "angle", "stft")
] + [
    Case("STFTSpectrogram", kwargs, inputs)
    for kwargs, inputs in [
        ({"mode": "magnitude", "frame_length": 10, "frame_step": 3,
          "fft_length": 16, "window": "hamming", "periodic": True,
          "scaling": "spectrum"}, STFT_SIGNAL),
        ({"mode": "real", "frame_length": 8, "window": None, "scaling": None},
         STFT_SIGNAL),
        ({**STFT_BASE, "mode": "stft", "padding": "same", "expand_dims": True},
         Input((2, 37, 3), "float32", "uniform")),
        ({**STFT_BASE, "mode": "psd", "data_format": "channels_first"},
         Input((2, 2, 40), "float32", "uniform")),
        ({**STFT_BASE, "mode": "stft", "expand_dims": True,
          "data_format": "channels_first", "window": "blackman"},
         Input((2, 3, 40), "float32", "uniform")),
    ]
]  # fmt: skip

CASES += [
    # Audio. (128 samples, stride 32: Keras's symbolic frame count
    # (n + s + 1) // s agrees with the real 1 + n // s; they differ when s
    # divides n + 1.) Decibels amplify float32 rounding in the gradients.
    Case(
        "MelSpectrogram",
        {
            "fft_length": 64,
            "sequence_stride": 32,
            "num_mel_bins": 16,
            "sampling_rate": 8000,
        },
        Input((2, 128), "float32", "uniform"),
        atol=3e-4,
    ),  # fmt: skip
    Case(
        "MelSpectrogram",
        {
            "fft_length": 64,
            "sequence_stride": 16,
            "sequence_length": 48,
            "num_mel_bins": 8,
            "power_to_db": False,
            "mag_exp": 1.0,
            "min_freq": 100.0,
            "max_freq": 3000.0,
            "window": "hamming",
        },
        Input((2, 96), "float32", "uniform"),
    ),  # fmt: skip
]
