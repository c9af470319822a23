"""``get_file``: a file from a URL, cached where Keras caches it.

The cache is ``$KERAS_HOME`` (else ``~/.keras``) / ``cache_subdir``, so a file that
Keras downloaded once is found by lamina under the same name, and the other way
round. Hashes are checked as Keras checks them (sha256, or md5 for legacy hashes);
archives are extracted as Keras extracts them (members that would land outside the
target folder, or links pointing out of it, are skipped). Offline, the error names
the URL and the exact path to put the file at.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile

from lamina import config
from lamina.utils.progbar import Progbar
from lamina.utils.validation import arg_error


def resolve_hasher(algorithm, file_hash=None):
    """A ``hashlib`` object: sha256 for ``"sha256"`` or a 64-character hash with
    ``"auto"``, md5 otherwise (legacy hashes), as Keras decides."""
    if algorithm == "sha256":
        return hashlib.sha256()
    if algorithm == "auto" and file_hash is not None and len(file_hash) == 64:
        return hashlib.sha256()
    return hashlib.md5()


def hash_file(fpath, algorithm="sha256", chunk_size=65535):
    """The hex digest of the file at ``fpath`` (``algorithm``: ``"sha256"``,
    ``"md5"``, ``"auto"`` or a ``hashlib`` object)."""
    hasher = resolve_hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=65535):
    """Whether the file's hash is ``file_hash``."""
    hasher = resolve_hasher(algorithm, file_hash)
    return str(hash_file(fpath, hasher, chunk_size)) == str(file_hash)


# ------------------------------------------------------------------ archives
def _inside(base_dir, relative):
    path = os.path.realpath(os.path.join(base_dir, relative))
    try:
        return os.path.commonpath([path, base_dir]) == base_dir
    except ValueError:
        return False


def _safe_members(archive, base_dir):
    base_dir = os.path.realpath(base_dir)
    zip_file = isinstance(archive, zipfile.ZipFile)
    for member in archive.infolist() if zip_file else archive.getmembers():
        name = member.filename if zip_file else member.name
        ok = _inside(base_dir, name)
        if ok and not zip_file and (member.issym() or member.islnk()):
            anchor = "" if member.islnk() else os.path.dirname(name)
            ok = _inside(base_dir, os.path.join(anchor, member.linkname))
        if ok:
            yield member
        else:
            warnings.warn(
                f"get_file: skipping the archive member {name!r}, which would be "
                f"written outside {base_dir}.",
                stacklevel=3,
            )


def _tar_filter(kind) -> dict:
    """tarfile's ``filter="data"`` where this Python has it (3.10.12+)."""
    if kind == "tar" and hasattr(tarfile, "data_filter"):
        return {"filter": "data"}
    return {}


def extract_archive(file_path, path=".", archive_format="auto"):
    """Extracts a tar (any compression) or zip archive into ``path``; returns
    whether ``file_path`` was an archive of an accepted format.

    ``archive_format``: ``"auto"`` (tar then zip), ``"tar"``, ``"zip"``, a list
    of those, or ``None`` (no extraction).
    """
    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else archive_format
    formats = [formats] if isinstance(formats, str) else list(formats)
    file_path, path = os.fspath(file_path), os.fspath(path)
    openers = {"tar": (tarfile.is_tarfile, tarfile.open),
               "zip": (zipfile.is_zipfile, zipfile.ZipFile)}  # fmt: skip
    for kind in formats:
        if kind not in openers:
            rule = "'auto', 'tar', 'zip', a list of those, or None"
            raise arg_error("extract_archive", "archive_format", rule, archive_format)
        matches, opener = openers[kind]
        if not matches(file_path):
            continue
        with opener(file_path) as archive:
            try:
                members = list(_safe_members(archive, path))
                archive.extractall(path, members=members, **_tar_filter(kind))
            except (tarfile.TarError, RuntimeError, KeyboardInterrupt):
                shutil.rmtree(path, ignore_errors=True)
                raise
        return True
    return False


# ------------------------------------------------------------------- get_file
def _cache_dir(cache_dir, cache_subdir):
    base = os.path.expanduser(
        cache_dir if cache_dir is not None else config.keras_dir()
    )
    if os.path.isdir(base) and not os.access(base, os.W_OK):
        base = os.path.join(tempfile.gettempdir(), ".keras")
    folder = os.path.join(base, cache_subdir)
    os.makedirs(folder, exist_ok=True)
    return folder


def _targets(fname, origin, folder, extract):
    """``(download_target, extraction_dir)`` with Keras's naming rules."""
    given = bool(fname)
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise arg_error("get_file", "fname", "given when `origin` ends without "
                            "a file name", fname)  # fmt: skip
    elif os.sep in fname:
        raise arg_error("get_file", "fname", "a file name without folders (use "
                        "`cache_dir`/`cache_subdir` for the folder)", fname)  # fmt: skip
    if not extract:
        return os.path.join(folder, fname), None
    if given and "." in fname:
        stem = fname[: fname.find(".")]
        return os.path.join(folder, fname), os.path.join(folder, f"{stem}_extracted")
    return os.path.join(folder, f"{fname}_archive"), os.path.join(folder, fname)


def _download(origin, target, file_hash, hash_algorithm):
    progress = _DownloadProgress()
    partial = target + ".part"
    try:
        urllib.request.urlretrieve(origin, partial, progress)
    except (urllib.error.URLError, OSError, ValueError) as error:
        if os.path.exists(partial):
            os.remove(partial)
        reason = getattr(error, "reason", error)
        raise OSError(
            f"get_file: could not download {origin} ({reason}). To work offline, "
            f"download it elsewhere and place it at {target}"
            + (f" (its hash must be {file_hash})." if file_hash else ".")
        ) from error
    if file_hash is not None and not validate_file(partial, file_hash, hash_algorithm):
        actual = hash_file(partial, resolve_hasher(hash_algorithm, file_hash))
        os.remove(partial)
        raise ValueError(
            f"get_file: the file downloaded from {origin} must have the "
            f"{resolve_hasher(hash_algorithm, file_hash).name} hash {file_hash}; "
            f"got {actual} (incomplete or corrupted download)."
        )
    os.replace(partial, target)


class _DownloadProgress:
    """A ``Progbar`` fed by ``urlretrieve``'s report hook (bytes so far)."""

    def __init__(self):
        self.progbar = None

    def __call__(self, block_num, block_size, total_size):
        if self.progbar is None:
            self.progbar = Progbar(total_size if total_size > 0 else None)
        done = block_num * block_size
        if total_size > 0:
            done = min(done, total_size)
        self.progbar.update(done)


def get_file(
    fname=None,
    origin=None,
    untar=False,
    md5_hash=None,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    extract=False,
    archive_format="auto",
    cache_dir=None,
    force_download=False,
):
    """Downloads a file from a URL unless it is already in the cache.

    The file goes to ``cache_dir/cache_subdir/fname``; ``cache_dir`` defaults to
    ``$KERAS_HOME`` or ``~/.keras`` (``/tmp/.keras`` when that is not writable),
    Keras's cache, so files either library downloaded are shared. A cached file
    whose hash differs from ``file_hash`` is downloaded again.

    Args:
        fname: the file's name in the cache (default: the URL's last part). With
            ``extract``, the archive is kept as ``fname`` and extracted into
            ``<fname up to its first dot>_extracted`` (or, for a name without a
            dot, kept as ``fname_archive`` and extracted into ``fname``).
        origin: the URL (``http(s)://``, ``ftp://`` or ``file://``).
        untar: deprecated; ``extract=True`` with ``archive_format="tar"``.
        md5_hash: deprecated; ``file_hash`` with ``hash_algorithm="md5"``.
        file_hash: the expected sha256 or md5 hex digest (``None``: no check).
        cache_subdir: the subfolder of the cache (an absolute path is used as is).
        hash_algorithm: ``"auto"`` (sha256 for 64-character hashes, md5 for
            others), ``"sha256"`` or ``"md5"``.
        extract: whether to extract the archive (tar, tar.gz, tar.bz2, zip).
        archive_format: ``"auto"``, ``"tar"``, ``"zip"``, a list, or ``None``.
        cache_dir: the cache's root folder.
        force_download: download even when the file is cached.

    Returns:
        The path of the file, or of the extraction folder with ``extract``.

    Raises:
        OSError: when the download fails (offline): the message names the URL
            and the path to place the file at.
        ValueError: when the downloaded file's hash is not ``file_hash``, or for
            a bad ``fname``.

    Example:
    >>> import os, pathlib, tempfile, lamina as keras
    >>> cache = pathlib.Path(tempfile.mkdtemp())
    >>> (cache / "datasets").mkdir()
    >>> _ = (cache / "datasets" / "data.txt").write_text("hello")  # already cached
    >>> path = keras.utils.get_file(origin="https://example.com/data.txt", cache_dir=cache)
    >>> os.path.relpath(path, cache), open(path).read()
    ('datasets/data.txt', 'hello')
    """
    if origin is None:
        raise arg_error("get_file", "origin", "the URL of the file", origin)
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    folder = _cache_dir(cache_dir, cache_subdir)
    fname = os.fspath(fname) if fname is not None else None
    target, extraction_dir = _targets(fname, origin, folder, extract or untar)
    download = force_download or not os.path.exists(target)
    if not download and file_hash is not None:
        download = not validate_file(target, file_hash, hash_algorithm)
        if download:
            warnings.warn(
                f"get_file: the cached {target} does not have the expected hash "
                f"{file_hash} (incomplete or outdated): downloading it again.",
                stacklevel=2,
            )
    if download:
        _download(origin, target, file_hash, hash_algorithm)
    if extraction_dir is None:
        return target
    if not extract_archive(target, extraction_dir, "tar" if untar else archive_format):
        warnings.warn(f"get_file: could not extract {target}.", stacklevel=2)
    return extraction_dir
