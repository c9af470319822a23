"""Reading Keras's dataset files without running code from them.

The IMDB and Reuters ``.npz`` files hold ragged ``dtype=object`` arrays and the
CIFAR batches are Python pickles: both need pickle, which can run any code a
tampered file names. ``RestrictedUnpickler`` allows only the globals those files
use (NumPy's array reconstruction), so a malicious file fails to load instead of
running its payload; plain numeric ``.npy`` members are read with pickle off.
"""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np

# Rebuilding a NumPy array (also of ragged object rows) needs exactly these; both
# NumPy 1 (``numpy.core``) and NumPy 2 (``numpy._core``) spellings are listed.
ALLOWED_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
    }
)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that builds plain containers (dict, list, str, bytes,
    numbers) and NumPy arrays, and refuses every other global."""

    def find_class(self, module, name):
        if (module, name) in ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"lamina.datasets: refusing to load `{module}.{name}` from a dataset "
            "file: only NumPy arrays and plain Python data are allowed (the file "
            "may be corrupted or malicious)."
        )


def load_pickle(path, encoding="bytes"):
    """A pickle file's content, through ``RestrictedUnpickler``."""
    with open(path, "rb") as f:
        return RestrictedUnpickler(f, encoding=encoding).load()


def _read_member(buffer):
    try:
        return np.lib.format.read_array(buffer, allow_pickle=False)
    except ValueError:  # an object array: its data is a pickle stream
        buffer.seek(0)
        major, _ = np.lib.format.read_magic(buffer)
        if major == 1:
            np.lib.format.read_array_header_1_0(buffer)
        else:  # 2.0 and 3.0 share the header layout
            np.lib.format.read_array_header_2_0(buffer)
        return RestrictedUnpickler(buffer, encoding="latin1").load()


def load_npz(path) -> dict:
    """The arrays of an ``.npz`` file (object arrays through
    ``RestrictedUnpickler``)."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                with archive.open(member) as raw:
                    arrays[member[:-4]] = _read_member(io.BytesIO(raw.read()))
    return arrays


def check_test_split(owner, test_split):
    if isinstance(test_split, bool) or not (0 <= test_split < 1):
        raise ValueError(
            f"{owner}: `test_split` must be a number in [0, 1); got "
            f"test_split={test_split!r}."
        )


def shuffled_split(x, y, test_split, seed, owner):
    """``(x_train, y_train), (x_test, y_test)``: shuffled with NumPy's
    ``RandomState(seed)``, the last ``test_split`` fraction for testing (Keras's
    rule for the housing sets)."""
    check_test_split(owner, test_split)
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (
        np.array(x[cut:]),
        np.array(y[cut:]),
    )
