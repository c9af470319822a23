"""Robustness at the public entry points (issue 18, items 1 and 6): saving into a
folder that is missing or not writable, input shapes that contradict the model's
inputs, and edge sizes (0 samples, huge batch sizes). Every bad input is made here.
"""

import errno
import os
import re
import tempfile

import numpy as np
import pytest

import lamina

X = np.random.default_rng(0).standard_normal((4, 6)).astype("float32")


def _sequential():
    return lamina.Sequential([lamina.Input((6,)), lamina.layers.Dense(3, name="d")])


def _functional():
    inputs = lamina.Input((6,), name="features")
    return lamina.Model(inputs, lamina.layers.Dense(3, name="d")(inputs))


SAVES = {
    "keras": lambda m, p: m.save(p / "m.keras"),
    "h5": lambda m, p: m.save(p / "m.h5"),
    "weights": lambda m, p: m.save_weights(p / "m.weights.h5"),
    "legacy-weights": lambda m, p: m.save_weights(p / "m_weights.h5"),
}


# ------------------------------------------------------ 1. saving: clear errors
@pytest.mark.parametrize("fmt", sorted(SAVES))
def test_saving_into_a_missing_folder_raises_and_creates_nothing(tmp_path, fmt):
    folder = tmp_path / "typo" / "models"
    with pytest.raises(FileNotFoundError, match=r"typo/models' does not exist"):
        SAVES[fmt](_sequential(), folder)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("fmt", sorted(SAVES))
def test_saving_into_an_unwritable_folder_names_the_users_path(
    tmp_path, fmt, monkeypatch
):
    folder = tmp_path / "locked"
    folder.mkdir()
    if os.geteuid() != 0:  # root writes anywhere: simulate the refusal below
        folder.chmod(0o555)
        with pytest.raises(PermissionError, match=r"Cannot save '.*locked/m"):
            SAVES[fmt](_sequential(), folder)
        folder.chmod(0o755)

    def refuse(*args, **kwargs):  # what mkstemp raises in a read-only folder
        name = os.path.join(kwargs["dir"], f"{kwargs['prefix']}x1y2{kwargs['suffix']}")
        raise PermissionError(errno.EACCES, "Permission denied", name)

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError) as info:
        SAVES[fmt](_sequential(), folder)
    message = str(info.value)
    assert f"Cannot save '{folder}/m" in message and "Permission denied" in message
    assert ".tmp" not in message  # never the hidden temporary file
    assert os.listdir(folder) == []


def test_disk_full_midway_names_the_users_path_and_leaves_nothing(
    tmp_path, monkeypatch
):
    import zipfile

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", full)
    with pytest.raises(OSError, match=r"Cannot save '.*m.keras': No space left"):
        _sequential().save(tmp_path / "m.keras")
    assert os.listdir(tmp_path) == []


def test_saving_onto_a_folder_or_under_a_file_is_refused(tmp_path):
    (tmp_path / "m.keras").mkdir()
    with pytest.raises(IsADirectoryError, match="m.keras': it is a folder"):
        _sequential().save(tmp_path / "m.keras")
    (tmp_path / "plain").write_text("x")
    with pytest.raises(FileNotFoundError, match="plain' is not a folder"):
        _sequential().save(tmp_path / "plain" / "m.keras")


# ------------------------------------------ 1. inputs that contradict the model
WRONG = [(2, 3, 6), (2, 5), (2,), (2, 6, 2)]
ENTRY_POINTS = {
    "call": lambda m, x: m(x),
    "predict": lambda m, x: m.predict(x, verbose=0),
    "predict-batches": lambda m, x: m.predict(x, batch_size=1, verbose=0),
    "evaluate": lambda m, x: m.evaluate(x, np.zeros((len(x), 3)), verbose=0),
    "fit": lambda m, x: m.fit(x, np.zeros((len(x), 3)), verbose=0),
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("make", [_sequential, _functional], ids=["seq", "fun"])
def test_inputs_of_the_wrong_rank_or_size_raise_everywhere(make, entry):
    model = make()
    model.compile("sgd", "mse")
    name = model.inputs[0].name
    for shape in WRONG:
        x = np.zeros(shape, "float32")
        expected = re.escape(f"'{name}' must have shape (None, 6) (None: any size)")
        tail = re.escape("".join(f", {d}" for d in shape[1:]))  # batch may be split
        with pytest.raises(ValueError, match=rf"{expected}; got shape \(\d+{tail},?\)"):
            ENTRY_POINTS[entry](model, x)


def test_a_trailing_axis_of_one_is_added_or_dropped_as_in_keras():
    model = _functional()
    np.testing.assert_allclose(
        model.predict(X[..., None], verbose=0), model.predict(X, verbose=0)
    )
    inputs = lamina.Input((6, 1))
    column = lamina.Model(inputs, lamina.layers.Flatten()(inputs))
    np.testing.assert_allclose(column.predict(X, verbose=0), X)


def test_dict_inputs_are_checked_by_name():
    a, b = lamina.Input((2,), name="a"), lamina.Input((3,), name="b")
    model = lamina.Model({"a": a, "b": b}, lamina.ops.concatenate([a, b], axis=-1))
    good = {"a": np.ones((1, 2)), "b": np.ones((1, 3))}
    assert model.predict(good, verbose=0).shape == (1, 5)
    with pytest.raises(ValueError, match=r"'b' must have shape \(None, 3\)"):
        model.predict({"a": np.ones((1, 2)), "b": np.ones((1, 4))}, verbose=0)


# ------------------------------------------------------------- 6. edge sizes
@pytest.mark.parametrize("make", [_sequential, _functional], ids=["seq", "fun"])
def test_predict_on_no_samples_is_empty_with_the_right_shape(make):
    model = make()
    for batch_size in (None, 2):
        out = model.predict(np.zeros((0, 6), "float32"), batch_size=batch_size)
        assert out.shape == (0, 3) and out.dtype == np.float32
    two = lamina.Model(model.inputs, [model.outputs[0], model.outputs[0] * 2])
    assert [o.shape for o in two.predict(np.zeros((0, 6)), verbose=0)] == [(0, 3)] * 2


def test_fit_and_evaluate_on_no_samples_raise():
    model = _sequential()
    model.compile("sgd", "mse")
    empty_x, empty_y = np.zeros((0, 6)), np.zeros((0, 3))
    with pytest.raises(ValueError, match="fit.*at least one sample; got 0"):
        model.fit(empty_x, empty_y, verbose=0)
    with pytest.raises(ValueError, match="evaluate.*at least one sample; got 0"):
        model.evaluate(empty_x, empty_y, verbose=0)


def test_huge_batch_sizes_are_clamped_to_the_data_and_bad_ones_refused():
    model = _sequential()
    model.compile("sgd", "mse")
    y = np.zeros((4, 3), "float32")
    seen = []
    batches = lamina.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(batch)
    )
    model.fit(X, y, batch_size=10**12, verbose=0, callbacks=[batches])
    assert seen == [0]
    np.testing.assert_allclose(
        model.predict(X, batch_size=10**12, verbose=0), model.predict(X, verbose=0)
    )
    assert np.isfinite(model.evaluate(X, y, batch_size=10**12, verbose=0))
    for bad in (0, -3, 2.5, "8", True):
        with pytest.raises(ValueError, match="`batch_size` must be None or an int"):
            model.fit(X, y, batch_size=bad, verbose=0)
