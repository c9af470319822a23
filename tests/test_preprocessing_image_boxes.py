"""Bounding boxes and segmentation masks through RandomShear, RandAugment, AugMix
and the colour layers, against Keras 3 with the same transformation (and against
the sheared image itself where Keras 3.15's shear boxes are wrong); dict inputs
(images with boxes) in functional models, symbolic and saved both ways."""

import keras
import numpy as np
import pytest
import torch

import lamina
from tests.cases_preprocessing_image import copy
from tests.test_preprocessing_image import BOXES


def _boxes(boxes=BOXES):
    return {key: torch.tensor(value) for key, value in boxes.items()}


def _numpy(value):
    return {key: keras.ops.convert_to_numpy(v) for key, v in value.items()}


# ------------------------------------------------------------------- shear
@pytest.mark.parametrize("fmt", ["xyxy", "rel_xyxy", "center_xywh"])
@pytest.mark.parametrize("factors", [{"x_factor": 0.3}, {"y_factor": (0.1, 0.4)}])
def test_shear_boxes_match_keras_on_square_images_along_one_axis(fmt, factors):
    # Keras 3.15 shears boxes in relative coordinates, one axis after the other:
    # right for square images sheared along one axis (see RandomShear's docs).
    images = np.zeros((2, 6, 6, 3), "float32")
    boxes = dict(BOXES)
    boxes["boxes"] = lamina.utils.bounding_boxes.convert_format(
        BOXES["boxes"], "xyxy", fmt, height=6, width=6
    ).numpy()
    ours = lamina.layers.RandomShear(bounding_box_format=fmt, seed=3, **factors)
    theirs = keras.layers.RandomShear(bounding_box_format=fmt, seed=3, **factors)
    transformation = theirs.get_random_transformation(images, training=True)
    expected = _numpy(
        theirs.transform_bounding_boxes(_boxes(boxes), copy(transformation))
    )
    actual = ours.transform_bounding_boxes(_boxes(boxes), copy(transformation))
    np.testing.assert_allclose(actual["boxes"].numpy(), expected["boxes"], atol=1e-5)
    np.testing.assert_array_equal(actual["labels"].numpy(), expected["labels"])


def test_shear_boxes_follow_the_sheared_image():
    # A non-square image sheared along both axes: each box must hold the
    # sheared pixels of the rectangle it marked (Keras 3.15's boxes do not).
    height, width = 24, 40
    layer = lamina.layers.RandomShear(
        (0.2, 0.4), (0.2, 0.4), bounding_box_format="xyxy", fill_mode="constant",
        interpolation="nearest",
    )  # fmt: skip
    boxes = np.array([[[6.0, 4.0, 18.0, 12.0], [20.0, 10.0, 30.0, 20.0]]], "float32")
    masks = np.zeros((1, height, width, 2), "float32")
    for index, (x1, y1, x2, y2) in enumerate(boxes[0].astype(int)):
        masks[0, y1:y2, x1:x2, index] = 1.0
    for sign in (1.0, -1.0):
        transformation = {"shear_factor": torch.tensor([[0.3 * sign, 0.25 * sign]]),
                          "input_shape": masks.shape}  # fmt: skip
        moved = layer.transform_bounding_boxes(
            _boxes({"boxes": boxes, "labels": np.ones((1, 2))}), transformation
        )["boxes"][0].numpy()
        warped = layer.transform_images(torch.tensor(masks), transformation)[0]
        for index in range(2):
            rows, cols = np.nonzero(warped[..., index].numpy())
            x1, y1, x2, y2 = moved[index]
            assert x1 - 1 <= cols.min() and cols.max() <= x2, (sign, index)
            assert y1 - 1 <= rows.min() and rows.max() <= y2, (sign, index)
            # and tight: box corners are pixel edges, the pixels' extent counts
            # pixel centres (Keras's boxes are off by up to 10 pixels here)
            np.testing.assert_allclose(
                [x1, y1, x2, y2],
                [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], atol=2.0
            )  # fmt: skip


# -------------------------------------------------------------- RandAugment
@pytest.mark.parametrize("chosen", [[0, 2], [1, 4], [3]], ids=str)
def test_rand_augment_boxes_match_keras(chosen):
    # Layers chosen distinct and in Keras's order: Keras's boxes are right there
    # (see RandAugment's docs); the shear along x only (see RandomShear's).
    images = np.random.default_rng(0).uniform(0, 255, (2, 6, 6, 3)).astype("float32")
    kwargs = {"num_ops": len(chosen), "factor": 0.3, "bounding_box_format": "xyxy"}
    ours = lamina.layers.RandAugment(seed=1, **kwargs)
    theirs = keras.layers.RandAugment(seed=1, **kwargs)
    transformation = theirs.get_random_transformation(images, training=True)
    transformation["layer_idxes"] = torch.tensor(chosen)
    transformation["transforms"]["random_shear"]["shear_factor"][:, 1] = 0.0
    expected = _numpy(theirs.transform_bounding_boxes(_boxes(), copy(transformation)))
    actual = ours.transform_bounding_boxes(_boxes(), copy(transformation))
    np.testing.assert_allclose(actual["boxes"].numpy(), expected["boxes"], atol=1e-4)
    np.testing.assert_array_equal(actual["labels"].numpy(), expected["labels"])


def test_rand_augment_moves_boxes_through_each_chosen_step_in_order():
    images = np.zeros((2, 6, 7, 3), "float32")
    layer = lamina.layers.RandAugment(num_ops=3, bounding_box_format="xyxy", seed=2)
    transformation = layer.get_random_transformation(images, training=True)
    transformation["layer_idxes"] = torch.tensor([2, 0, 2])  # rotate, shear, rotate
    steps = transformation["transforms"]
    expected = _boxes()
    for name in ("random_rotation", "random_shear", "random_rotation"):
        expected = getattr(layer, name).transform_bounding_boxes(expected, steps[name])
    actual = layer.transform_bounding_boxes(_boxes(), transformation)
    np.testing.assert_allclose(actual["boxes"].numpy(), expected["boxes"].numpy())
    out = layer({"images": images, "bounding_boxes": BOXES}, training=True)
    assert tuple(out["bounding_boxes"]["boxes"].shape) == (2, 2, 4)
    unbatched = {
        "images": images[0],
        "bounding_boxes": {k: v[0] for k, v in BOXES.items()},
    }
    out = layer(unbatched, training=True)
    assert tuple(out["bounding_boxes"]["boxes"].shape) == (2, 4)


def test_rand_augment_masks_match_keras():
    masks = np.random.default_rng(1).integers(0, 4, (2, 6, 6, 1)).astype("float32")
    ours = lamina.layers.RandAugment(num_ops=3, factor=0.4, seed=1)
    theirs = keras.layers.RandAugment(num_ops=3, factor=0.4, seed=1)
    transformation = theirs.get_random_transformation(masks, training=True)
    transformation["layer_idxes"] = torch.tensor([2, 3, 5])  # rotation + colours
    expected = theirs.transform_segmentation_masks(
        torch.tensor(masks), copy(transformation)
    )
    actual = ours.transform_segmentation_masks(
        torch.tensor(masks), copy(transformation)
    )
    np.testing.assert_array_equal(actual.numpy(), keras.ops.convert_to_numpy(expected))


# ------------------------------------------------------------------- AugMix
def test_aug_mix_passes_boxes_through_as_keras():
    images = np.random.default_rng(0).uniform(0, 255, (2, 6, 7, 3)).astype("float32")
    layer = lamina.layers.AugMix(bounding_box_format="xyxy", seed=1)
    out = layer({"images": images, "bounding_boxes": BOXES}, training=True)
    np.testing.assert_array_equal(
        out["bounding_boxes"]["boxes"].numpy(), BOXES["boxes"]
    )
    theirs = keras.layers.AugMix(bounding_box_format="xyxy", seed=1)
    transformation = theirs.get_random_transformation(images, training=True)
    expected = _numpy(theirs.transform_bounding_boxes(_boxes(), transformation))
    np.testing.assert_array_equal(expected["boxes"], BOXES["boxes"])


# ----------------------------------------------------------- colour layers
COLOUR_LAYERS = [
    ("RandomBrightness", {"factor": 0.5}),
    ("RandomInvert", {}),
    ("RandomPosterization", {"factor": 2}),
    ("Solarization", {"addition_factor": 0.5}),
    ("AutoContrast", {}),
    ("Equalization", {}),
    ("RandomColorJitter", {"brightness_factor": 0.5}),
]


@pytest.mark.parametrize("name,kwargs", COLOUR_LAYERS, ids=str)
def test_colour_layers_pass_boxes_and_masks_through_as_keras(name, kwargs):
    masks = np.random.default_rng(1).integers(0, 4, (2, 6, 7, 1)).astype("float32")
    images = np.random.default_rng(2).uniform(0, 255, (2, 6, 7, 3)).astype("float32")
    ours = getattr(lamina.layers, name)(bounding_box_format="xyxy", **kwargs)
    theirs = getattr(keras.layers, name)(bounding_box_format="xyxy", **kwargs)
    transformation = theirs.get_random_transformation(images, training=True)
    expected = theirs.transform_segmentation_masks(torch.tensor(masks), transformation)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(expected), masks)
    data = {"images": images, "segmentation_masks": masks, "bounding_boxes": BOXES}
    out = ours(data, training=True)
    np.testing.assert_array_equal(out["segmentation_masks"].numpy(), masks)
    np.testing.assert_array_equal(
        out["bounding_boxes"]["boxes"].numpy(), BOXES["boxes"]
    )


# ------------------------------------------- dict inputs in functional models
DICT_DATA = {
    "images": np.random.default_rng(0).uniform(size=(2, 6, 7, 3)).astype("float32"),
    "boxes": np.array([[[1, 1, 4, 3], [0, 2, 6, 5], [2, 0, 5, 5]]] * 2, "float32"),
    "labels": np.array([[1, 2, 3], [4, 5, 6]], "int32"),
}


def _dict_model(library, make_layers):
    inputs = {
        "images": library.Input((6, 7, 3), name="images"),
        "boxes": library.Input((3, 4), name="boxes"),
        "labels": library.Input((3,), name="labels", dtype="int32"),
    }
    x = {
        "images": inputs["images"],
        "bounding_boxes": {"boxes": inputs["boxes"], "labels": inputs["labels"]},
    }
    for layer in make_layers(library.layers):
        x = layer(x)
    return library.Model(inputs, x)


def _augment_boxes(L):
    return [
        L.RandomFlip(bounding_box_format="xyxy", seed=1),
        L.Pipeline(
            [
                L.RandomFlip("vertical", bounding_box_format="xyxy", seed=2),
                L.RandomBrightness(0.2, bounding_box_format="xyxy", seed=3),
            ]
        ),  # (no warps: Keras takes ~15 s to trace a random warp)
        L.MaxNumBoundingBoxes(2, bounding_box_format="xyxy"),
    ]


def _shapes(structure):
    return keras.tree.map_structure(lambda t: tuple(t.shape), structure)


def test_symbolic_dict_inputs_match_keras():
    # Keras 3 records flipped labels as float32 in its graph but returns them
    # as given (int32); lamina's graph says what the call returns.
    ours = _dict_model(lamina, _augment_boxes)
    theirs = _dict_model(keras, _augment_boxes)
    assert _shapes(ours.outputs) == _shapes(theirs.outputs)
    expected = theirs.predict(DICT_DATA, verbose=0)
    actual = ours.predict(DICT_DATA, verbose=0)
    assert _shapes(actual) == _shapes(expected)
    for a, b in zip(keras.tree.flatten(actual), keras.tree.flatten(expected)):
        np.testing.assert_array_equal(a, b)
    trained = ours(DICT_DATA, training=True)  # augments, same structure
    assert _shapes(trained) == _shapes(expected)


def test_dict_model_with_boxes_saves_and_loads_both_ways(tmp_path):
    ours = _dict_model(lamina, _augment_boxes)
    expected = ours.predict(DICT_DATA, verbose=0)
    ours.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")  # Keras records training=True here
    again = lamina.saving.load_model(tmp_path / "theirs.keras")
    for model in (theirs, again):
        actual = model.predict(DICT_DATA, verbose=0)
        for a, b in zip(keras.tree.flatten(actual), keras.tree.flatten(expected)):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["CenterCrop", "RandomCrop"])
def test_symbolic_dict_shapes_are_the_calls_where_keras_fails(name):
    # Keras 3.15 fails to trace these two with dict inputs (CenterCrop checks
    # the dict as a shape; RandomCrop indexes it): lamina runs its own call.
    def layers(L):
        return [getattr(L, name)(4, 5, bounding_box_format="xyxy")]

    model = _dict_model(lamina, layers)
    boxes, labels, images = model.outputs  # flattened: keys sorted
    assert (boxes.shape, labels.shape) == ((None, 3, 4), (None, 3))
    assert images.shape == (None, 4, 5, 3)
    out = model(DICT_DATA, training=True)
    assert tuple(out["images"].shape) == (2, 4, 5, 3)
