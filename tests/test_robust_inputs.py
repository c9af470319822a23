"""Robustness at the public entry points (issue 18, items 1 and 6): saving into a
folder that is missing or not writable, input shapes that contradict the model's
inputs, and edge sizes (0 samples, huge batch sizes). Every bad input is made here.
"""

import errno
import os
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
