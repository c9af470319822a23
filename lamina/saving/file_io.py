"""Safe, atomic file access for every saving format.

Writes go to a temporary file beside the target and are renamed over it only once
complete, so a crash mid-save leaves the previous file intact. Reads identify the
format from the file's first bytes and turn h5py/zipfile failures into errors that
name the file and say what is wrong. Nothing here unpickles or unmarshals.
"""

from __future__ import annotations

import contextlib
import errno
import io
import math
import os
import tempfile
import zipfile

import h5py
import numpy as np

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
# Declared sizes beyond this floor must be backed by stored bytes (zip/HDF5 bombs).
_BOMB_FLOOR_BYTES = 1 << 30
_MAX_EXPANSION = 1000


class FileFormatError(ValueError):
    """A file that is missing, truncated, corrupted or of the wrong kind."""


def display_name(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return getattr(source, "name", None) or f"<{type(source).__name__}>"


def file_error(source, problem: str) -> FileFormatError:
    return FileFormatError(f"Cannot load '{display_name(source)}': {problem}")


# ------------------------------------------------------------------ sniffing
def sniff(path) -> str:
    """``"zip"``, ``"hdf5"``, ``"json"`` or ``"unknown"`` from the file's first bytes.

    Raises:
        FileNotFoundError: naming the path, when it does not exist.
        FileFormatError: for an empty file.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such file: '{path}'.")
    if os.path.isdir(path):
        return "directory"
    with open(path, "rb") as f:
        head = f.read(1032)
    if not head:
        raise file_error(path, "the file is empty (0 bytes); was a save interrupted?")
    if head.startswith(_ZIP_SIGNATURES):
        return "zip"
    # HDF5 allows a user block of 512, 1024, ... bytes before the signature.
    if any(head[o : o + 8] == _HDF5_SIGNATURE for o in (0, 512, 1024)):
        return "hdf5"
    if head.lstrip()[:1] in (b"{", b"["):
        return "json"
    return "unknown"


# ------------------------------------------------------------------- writing
def check_target(path) -> None:
    """Raise before anything is written when ``path`` cannot be saved to: its
    folder is missing (Keras raises too; lamina never creates folders a typo
    named), not a folder, or not writable; ``path`` is a folder."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        what = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise FileNotFoundError(
            f"Cannot save '{path}': the folder '{folder}' {what}; create it first."
        )
    if os.path.isdir(path):
        raise IsADirectoryError(f"Cannot save '{path}': it is a folder.")
    if not os.access(folder, os.W_OK):
        raise PermissionError(
            f"Cannot save '{path}': the folder '{folder}' is not writable "
            "(permission denied)."
        )


@contextlib.contextmanager
def atomic_write(path):
    """Yield a temporary path in the target's folder; rename it to ``path`` on
    success, delete it on failure. Readers never see a half-written file.

    Raises:
        FileNotFoundError, IsADirectoryError, PermissionError: from
            ``check_target``, before anything is written.
        OSError: a write that fails midway (disk full, permissions), of the same
            class, naming ``path`` (never the hidden temporary file).
    """
    path = os.fspath(path)
    check_target(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(
            dir=os.path.dirname(os.path.abspath(path)),
            prefix=f".{os.path.basename(path)}.",
            suffix=".tmp",
        )
        os.close(fd)
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        _remove_quietly(tmp)
        if not _about_target(e, tmp):
            raise
        reason = e.strerror or str(e).replace(tmp or path, path)
        raise type(e)(f"Cannot save '{path}': {reason}.") from None
    except BaseException:
        _remove_quietly(tmp)
        raise


_WRITE_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}


def _about_target(error: OSError, tmp) -> bool:
    """Whether ``error`` is about writing the file (so the user's path is named
    instead of the temporary one), not an error of the caller's own."""
    return (
        tmp is None
        or error.filename == tmp
        or tmp in str(error)
        or error.errno in _WRITE_ERRNOS
    )


def _remove_quietly(tmp) -> None:
    if tmp is not None:
        with contextlib.suppress(OSError):
            os.remove(tmp)


# ----------------------------------------------------------------------- zip
def open_zip(path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path, "r")
    except zipfile.BadZipFile as e:
        raise file_error(
            path, f"it is not a valid zip archive (truncated or corrupted?): {e}."
        ) from None


def read_zip_member(
    archive: zipfile.ZipFile, member: str, source, limit: int | None = None
) -> bytes:
    """A member's bytes, refusing decompression bombs (and, given ``limit``, a
    member declaring more bytes than that) before inflating anything, and naming
    CRC/truncation damage."""
    try:
        info = archive.getinfo(member)
    except KeyError:
        names = ", ".join(archive.namelist()) or "nothing"
        raise file_error(
            source, f"the archive has no '{member}' entry (it holds: {names})."
        ) from None
    if limit is not None and info.file_size > limit:
        raise file_error(
            source,
            f"archive entry '{member}' declares {info.file_size} bytes, more than "
            f"the {limit} it may hold; refused without inflating it.",
        )
    if info.file_size > _BOMB_FLOOR_BYTES and info.file_size > _MAX_EXPANSION * max(
        info.compress_size, 1
    ):
        raise file_error(
            source,
            f"archive entry '{member}' declares {info.file_size} bytes but stores "
            f"only {info.compress_size}; refusing a decompression bomb.",
        )
    try:
        with archive.open(member) as f:
            return f.read()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise file_error(
            source, f"archive entry '{member}' is damaged ({e}); the file is corrupted."
        ) from None


# ---------------------------------------------------------------------- HDF5
def open_h5(source, mode: str = "r", name=None) -> h5py.File:
    """Open an HDF5 file (path or bytes buffer) with errors that name the file."""
    name = name or source
    if mode == "r" and isinstance(source, (str, os.PathLike)):
        kind = sniff(source)
        if kind != "hdf5":
            raise file_error(name, f"it is not an HDF5 file (it looks like {kind}).")
    try:
        return h5py.File(source, mode)
    except OSError as e:
        text = str(e)
        if "truncated" in text or "eof" in text.lower():
            problem = "the HDF5 file is truncated (was a save interrupted?)"
        elif "signature" in text:
            problem = "it is not an HDF5 file"
        else:
            problem = f"the HDF5 file is corrupted or unreadable ({text})"
        raise file_error(name, problem + ".") from None


@contextlib.contextmanager
def h5_damage(source):
    """Inside the block, the errors h5py raises on a damaged file's structure
    (``RuntimeError``/``KeyError``/``OSError`` "Unable to ...") become a
    ``FileFormatError`` naming the file."""
    try:
        yield
    except FileFormatError:
        raise
    except (RuntimeError, KeyError, OSError) as e:
        text = str(e).strip("'\"")
        if not text.startswith(("Unable to", "Can't", "Unable to synchronously")):
            raise
        raise file_error(
            source, f"its HDF5 structure is corrupted ({text}); the file is damaged."
        ) from None


def h5_from_bytes(data: bytes, name) -> h5py.File:
    if not data.startswith(_HDF5_SIGNATURE):
        raise file_error(name, "its weights entry is not an HDF5 file.")
    return open_h5(io.BytesIO(data), "r", name=name)


def get_group(parent, path: str, source):
    """The group at ``path`` under ``parent`` (None if absent); refuses links that
    point outside the file and objects of the wrong kind."""
    current = parent
    for part in path.strip("/").split("/"):
        if not part:
            continue
        if part not in current:
            return None
        link = current.get(part, getclass=True, getlink=True)
        if link in (h5py.ExternalLink, h5py.SoftLink):
            raise file_error(
                source,
                f"'{current.name.rstrip('/')}/{part}' is an HDF5 {link.__name__}; "
                "links are refused (they can reach other files).",
            )
        current = current[part]
        if not isinstance(current, h5py.Group):
            raise file_error(source, f"'{current.name}' should be a group.")
    return current


def read_dataset(group, key: str, source) -> np.ndarray:
    """A dataset's values; refuses links, external/virtual storage and size bombs,
    and reports unreadable (corrupted) data by name."""
    link = group.get(key, getclass=True, getlink=True)
    if link is None:
        raise KeyError(key)
    where = f"{group.name.rstrip('/')}/{key}"
    if link in (h5py.ExternalLink, h5py.SoftLink):
        raise file_error(source, f"'{where}' is an HDF5 link; links are refused.")
    dataset = group[key]
    if not isinstance(dataset, h5py.Dataset):
        raise file_error(source, f"'{where}' should be a dataset.")
    if dataset.external or dataset.is_virtual:
        raise file_error(
            source, f"'{where}' stores its data outside the file; refused."
        )
    declared = math.prod(dataset.shape or ()) * dataset.dtype.itemsize
    stored = dataset.id.get_storage_size()
    if declared > _BOMB_FLOOR_BYTES and declared > _MAX_EXPANSION * max(stored, 1):
        raise file_error(
            source,
            f"'{where}' declares {declared} bytes but stores {stored}; refusing a "
            "shape/decompression bomb.",
        )
    try:
        value = dataset[()]
    except (OSError, ValueError, RuntimeError) as e:
        raise file_error(
            source, f"cannot read '{where}' ({e}); the file is corrupted."
        ) from None
    value = np.asarray(value)
    if dataset.attrs.get("dtype") == "bfloat16":
        value = _as_bfloat16(value, where, source)
    return value


def _as_bfloat16(value, where, source):
    try:
        import ml_dtypes
    except ImportError:  # pragma: no cover - ml_dtypes ships with Keras and JAX
        raise file_error(
            source, f"'{where}' is bfloat16; install `ml_dtypes` to read it."
        ) from None
    return value.view(ml_dtypes.bfloat16) if value.dtype.itemsize == 2 else value
