"""Merge layers in graphs, against Keras 3: symbolic shapes where some sizes are
unknown, masks flowing from Masking through a merge into an LSTM, the
functional forms, errors at later calls, and ``.keras`` files both ways. (Each
layer's own values, gradients, masks and errors: tests/cases_merging.py.)"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch

import lamina

SYMBOLIC = [
    ("Add", {}, [(None, 8), (10, 8)]),
    ("Add", {}, [(None, 1), (10, 8)]),
    ("Multiply", {}, [(3,), (None, 3)]),
    ("Maximum", {}, [(None, None, 4), (5, 1, 4)]),
    ("Concatenate", {"axis": 1}, [(None, 8), (10, 8)]),
    ("Concatenate", {"axis": -1}, [(None, 8), (10, 4)]),
    ("Concatenate", {"axis": -1}, [(10, 8), (None, 4)]),
    ("Dot", {"axes": (2, 2)}, [(None, 8), (10, 8)]),
]


@pytest.mark.parametrize("layer, kwargs, shapes", SYMBOLIC, ids=str)
def test_symbolic_shapes_with_unknown_sizes_are_keras(layer, kwargs, shapes):
    results = []
    for k in (lamina, keras):
        inputs = [k.Input(shape) for shape in shapes]
        results.append(tuple(getattr(k.layers, layer)(**kwargs)(inputs).shape))
    assert results[0] == results[1]


def test_dot_takes_an_unknown_size_along_its_axes():
    """A deliberate difference: Keras refuses ``None`` against a known size on the
    dot axes when building (tf.keras did too); lamina checks the sizes when they
    are known, on each call."""
    a, b = lamina.Input((None, 8)), lamina.Input((10, 3))
    assert lamina.layers.Dot(axes=1)([a, b]).shape == (None, 8, 3)
    with pytest.raises(ValueError, match="Incompatible input shapes"):
        keras.layers.Dot(axes=1)([keras.Input((None, 8)), keras.Input((10, 3))])
    layer = lamina.layers.Dot(axes=1)
    layer([a, b])
    with pytest.raises(ValueError, match=r"3 != 10"):
        layer([torch.ones(2, 3, 8), torch.ones(2, 10, 3)])


def _masked_model(k, layer_name, kwargs):
    """Masking -> [x, Dense(x)] -> merge -> LSTM: the LSTM skips what the merged
    mask says is padding."""
    inputs = k.Input((5, 3))
    x = k.layers.Masking()(inputs)
    y = k.layers.Dense(3, name="dense")(x)
    merged = getattr(k.layers, layer_name)(**kwargs)([x, y])
    outputs = k.layers.LSTM(2, name="lstm")(merged)
    return k.Model(inputs, [outputs, merged])


@pytest.mark.parametrize(
    "layer, kwargs",
    [("Add", {}), ("Maximum", {}), ("Multiply", {}), ("Concatenate", {"axis": 1})],
)
def test_masks_flow_through_merges_in_a_model(layer, kwargs):
    data = np.random.default_rng(0).standard_normal((3, 5, 3)).astype("float32")
    data[0, 3:] = 0.0
    data[1, :2] = 0.0
    ours, theirs = (
        _masked_model(lamina, layer, kwargs),
        _masked_model(keras, layer, kwargs),
    )
    ours.set_weights([w.numpy() for w in theirs.weights])
    masks = []
    for model in (ours, theirs):
        out = model(torch.tensor(data))
        masks.append(getattr(out[1], "_keras_mask", None))
    np.testing.assert_allclose(
        ours.predict(data, verbose=0)[0], theirs.predict(data, verbose=0)[0], atol=1e-5
    )
    np.testing.assert_array_equal(masks[0].numpy(), masks[1].numpy())
    symbolic = ours.outputs[1]._keras_mask
    assert symbolic is not None and symbolic.shape == (None, masks[0].shape[1])


@pytest.mark.parametrize(
    "function, layer, kwargs",
    [
        ("add", "Add", {}),
        ("subtract", "Subtract", {}),
        ("multiply", "Multiply", {}),
        ("average", "Average", {}),
        ("maximum", "Maximum", {}),
        ("minimum", "Minimum", {}),
        ("concatenate", "Concatenate", {"axis": 1}),
        ("dot", "Dot", {"axes": 2}),
    ],
)
def test_functional_forms_build_the_layer_and_call_it(function, layer, kwargs):
    a, b = lamina.Input((4, 3)), lamina.Input((4, 3))
    out = getattr(lamina.layers, function)([a, b], name="merged", **kwargs)
    node_layer = out._keras_history.layer
    assert type(node_layer) is getattr(lamina.layers, layer)
    assert node_layer.name == "merged"
    expected = getattr(keras.layers, function)([keras.Input((4, 3))] * 2, **kwargs)
    assert out.shape == expected.shape
    x = torch.ones(2, 4, 3)
    eager = getattr(lamina.layers, function)([x, 2 * x], **kwargs)
    theirs = getattr(keras.layers, function)([x, 2 * x], **kwargs)
    np.testing.assert_allclose(eager.numpy(), theirs.numpy(), atol=1e-6)


def test_a_later_call_with_shapes_that_do_not_fit_names_them():
    layer = lamina.layers.Add()
    layer([torch.ones(2, 3), torch.ones(2, 3)])
    with pytest.raises(
        ValueError, match=r"shapes that broadcast .*\[\(2, 3\), \(2, 4\)\]"
    ):
        layer([torch.ones(2, 3), torch.ones(2, 4)])
    concat = lamina.layers.Concatenate(axis=1)
    concat([torch.ones(2, 3), torch.ones(2, 3)])
    with pytest.raises(ValueError, match=r"\[\(2, 3\), \(4, 3\)\]"):
        concat([torch.ones(2, 3), torch.ones(4, 3)])


def test_ranks_that_change_after_the_build_still_align_after_the_batch_axis():
    """(4, 3) with (4, 4, 3): each sample's row is added to each of its 4 rows
    (plain broadcasting would pair the batch axis with axis 1)."""
    layer = lamina.layers.Add()
    layer([torch.ones(4, 3), torch.ones(4, 3)])
    x = torch.arange(12.0).reshape(4, 3)
    out = layer([x, torch.zeros(4, 4, 3)])
    np.testing.assert_array_equal(out.numpy(), np.repeat(x.numpy()[:, None], 4, 1))


def test_compute_mask_refuses_a_mask_that_is_not_a_list():
    layer = lamina.layers.Add()
    x = torch.ones(2, 3)
    with pytest.raises(ValueError, match=r"`mask` must be a list"):
        layer.compute_mask([x, x], torch.ones(2, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"got 1 masks for 2 inputs"):
        layer.compute_mask([x, x], [None])


def _merge_model(k):
    a, b = k.Input((6,)), k.Input((4, 6))
    x = k.layers.Dense(6, name="d1")(a)
    y = k.layers.Add()([x, b])  # ranks differ: x is broadcast over b's axis 1
    z = k.layers.Concatenate(axis=1)([y, k.layers.Maximum()([b, y])])
    w = k.layers.Dot(axes=(2, 2), normalize=True)([z, b])
    v = k.layers.Average()([k.layers.Subtract()([x, a]), k.layers.Multiply()([x, a])])
    return k.Model([a, b], [w, k.layers.Minimum()([v, x])])


def test_keras_files_with_merge_layers_move_both_ways(tmp_path):
    rng = np.random.default_rng(1)
    data = [rng.standard_normal((2, 6)), rng.standard_normal((2, 4, 6))]
    data = [d.astype("float32") for d in data]
    ours, theirs = _merge_model(lamina), _merge_model(keras)
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    from_keras = lamina.saving.load_model(tmp_path / "theirs.keras")
    from_lamina = keras.saving.load_model(tmp_path / "ours.keras")
    for a, b in zip(
        from_keras.predict(data, verbose=0), theirs.predict(data, verbose=0)
    ):
        np.testing.assert_allclose(a, b, atol=1e-5)
    for a, b in zip(
        from_lamina.predict(data, verbose=0), ours.predict(data, verbose=0)
    ):
        np.testing.assert_allclose(a, b, atol=1e-5)
