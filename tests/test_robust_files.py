"""Damaged and hostile files (issue 18, items 3 and 4): flipped or truncated
weights, zip bombs, archive members that leave their folder, HDF5 links and
outside storage, hostile assets. Every bad file is generated here.
"""

import os
import random
import struct
import zipfile
import zlib

import h5py
import numpy as np
import pytest

import lamina
from lamina.saving import FileFormatError


def _model():
    model = lamina.Sequential(
        [
            lamina.Input((4,)),
            lamina.layers.Dense(8, name="a"),
            lamina.layers.BatchNormalization(name="bn"),
            lamina.layers.Dense(2, name="b"),
        ]
    )
    model.compile("adam", "mse")
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved")
    model = _model()
    model.save(folder / "m.keras")
    model.save(folder / "m.h5")
    weights = [w.detach().cpu().numpy().copy() for w in model.weights]
    return folder, weights


def _damage(data: bytes, seed: int) -> tuple[bytes, int | None]:
    """``data`` with 1-8 bits flipped (returns how many) or, one seed in four,
    truncated (returns None)."""
    rng = random.Random(seed)
    data = bytearray(data)
    if seed % 4 == 0:
        return bytes(data[: rng.randrange(len(data))]), None
    flips = rng.randint(1, 8)
    for _ in range(flips):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data), flips


def _check_loaded(model, weights, flips):
    """A load reported as success kept every weight: only the elements a
    flipped bit can reach may differ from the saved values."""
    loaded = [w.detach().cpu().numpy() for w in model.weights]
    assert [w.shape for w in loaded] == [w.shape for w in weights]
    changed = sum(
        int(np.sum(~((a == b) | (np.isnan(a) & np.isnan(b)))))
        for a, b in zip(loaded, weights)
    )
    assert changed <= (flips or 0), f"{changed} values changed by {flips} flips"


def _outcome(load, weights, flips, name):
    try:
        model = load()
    except ValueError as e:
        assert name in str(e), str(e)
        return "refused"
    _check_loaded(model, weights, flips)
    return "loaded"


# ------------------------------------------------------------ 3. damaged weights
@pytest.mark.filterwarnings("ignore")
def test_damaged_weights_inside_a_keras_file(saved, tmp_path):
    folder, weights = saved
    with zipfile.ZipFile(folder / "m.keras") as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    outcomes = []
    for seed in range(60):
        data, flips = _damage(entries["model.weights.h5"], seed)
        path = tmp_path / f"d{seed}.keras"
        with zipfile.ZipFile(path, "w") as archive:  # valid CRCs: HDF5 sees it
            for member, content in entries.items():
                archive.writestr(
                    member, data if member == "model.weights.h5" else content
                )
        load = lambda: lamina.models.load_model(path)  # noqa: E731, B023
        outcomes.append(_outcome(load, weights, flips, str(path)))
    print(f"\ndamaged model.weights.h5: {outcomes.count('loaded')} loaded")
    assert 0 < outcomes.count("refused") < len(outcomes)


@pytest.mark.filterwarnings("ignore")
def test_damaged_legacy_h5_files(saved, tmp_path):
    folder, weights = saved
    original = (folder / "m.h5").read_bytes()
    outcomes = []
    for seed in range(60):
        data, flips = _damage(original, seed)
        path = tmp_path / f"d{seed}.h5"
        path.write_bytes(data)
        load = lambda: lamina.models.load_model(path)  # noqa: E731, B023
        outcomes.append(_outcome(load, weights, flips, str(path)))
    print(f"\ndamaged legacy .h5: {outcomes.count('loaded')} loaded")
    assert 0 < outcomes.count("refused") < len(outcomes)


# ------------------------------------------------------------ 4. zip bombs
def _raw_zip(path, members):
    """A zip archive written byte by byte: ``members`` is a list of
    ``(name, deflated bytes, crc32, declared inflated size)``."""
    out, central = bytearray(), bytearray()
    for name, data, crc, size in members:
        name_bytes = name.encode()
        offset = len(out)
        out += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size,
            len(name_bytes), 0,
        ) + name_bytes + data  # fmt: skip
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data),
            size, len(name_bytes), 0, 0, 0, 0, 0, offset,
        ) + name_bytes  # fmt: skip
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central),
        len(out), 0,
    )  # fmt: skip
    path.write_bytes(bytes(out + central + end))
    return path


def _deflated_zeros(size, chunk=1 << 24):
    """Raw deflate of ``size`` zero bytes, made without running the compressor
    over all of them (full flushes make every chunk's output identical)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH)
    count = size // chunk
    return first + again * (count - 1) + compressor.flush()


def _entry(name, text):
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = text.encode()
    deflated = compressor.compress(data) + compressor.flush()
    return (name, deflated, zlib.crc32(data), len(data))


def test_a_zip_bomb_config_is_refused_without_inflating(tmp_path, monkeypatch):
    size = 3 << 30  # 3 GiB of zeros in about 3 MiB
    bomb = ("config.json", _deflated_zeros(size), 0, size)
    path = _raw_zip(tmp_path / "bomb.keras", [_entry("metadata.json", "{}"), bomb])
    assert path.stat().st_size < 8 << 20
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(
        zipfile.ZipFile,
        "open",
        lambda self, name, *a, **k: (
            opened.append(name) or real_open(self, name, *a, **k)
        ),
    )
    with pytest.raises(FileFormatError, match="'config.json' declares 3221225472"):
        lamina.models.load_model(path)
    assert "config.json" not in opened


def test_an_entry_lying_about_its_size_stops_at_the_declared_size(tmp_path):
    name, data, _, _ = _entry("config.json", " " * (64 << 20))
    path = _raw_zip(tmp_path / "liar.keras", [(name, data, 0, 1000)])
    with pytest.raises(FileFormatError, match="'config.json' is damaged"):
        lamina.models.load_model(path)


# ---------------------------------------------- 4. members that leave assets/
def _lookup_model():
    inputs = lamina.Input((1,), dtype="string")
    lookup = lamina.layers.StringLookup(name="lookup")
    lookup.adapt(np.array([["a"], ["b"], ["b"]]))
    return lamina.Model(inputs, lookup(inputs))


@pytest.fixture(scope="module")
def lookup_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("lookup") / "lookup.keras"
    _lookup_model().save(path)
    with zipfile.ZipFile(path) as archive:
        vocabulary = [m for m in archive.namelist() if m.startswith("assets/")]
    assert len(vocabulary) == 1
    return path, vocabulary[0]


def _with_members(source, target, extra=None, replace=None):
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for member in src.namelist():
            data = (replace or {}).get(member, src.read(member))
            dst.writestr(member, data)
        for member, data in (extra or {}).items():
            dst.writestr(zipfile.ZipInfo(member), data)
    return target


@pytest.mark.parametrize(
    "member",
    [
        "assets/../../escaped.txt",
        "assets/lookup/../../../escaped.txt",
        "/tmp/escaped_abs.txt",
        "assets//escaped.txt",
        "assets/a\\..\\..\\escaped.txt",
    ],
)
def test_asset_members_leaving_the_folder_are_refused(
    lookup_file, tmp_path, monkeypatch, member
):
    sandbox = tmp_path / "sandbox" / "tmp"
    sandbox.mkdir(parents=True)
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(sandbox))
    source, _ = lookup_file
    path = _with_members(source, tmp_path / "evil.keras", {member: b"pwned"})
    if member.startswith("/"):  # not under assets/: never unpacked at all
        lamina.models.load_model(path)
    else:
        with pytest.raises(FileFormatError, match="leaves the assets folder"):
            lamina.models.load_model(path)
    written = [p for p in tmp_path.rglob("*escaped*")]
    assert written == [] and not os.path.exists("/tmp/escaped_abs.txt")
    assert os.listdir(sandbox) == []  # the temporary folder is gone


@pytest.mark.parametrize(
    "content, match",
    [
        (
            b"\xff\xfe\x00bad utf-8",
            "assets of 'layers/string_lookup'.*UnicodeDecodeError",
        ),
        (b"a\na\nb", "assets of 'layers/string_lookup'.*"),
    ],
    ids=["not-utf8", "duplicates"],
)
def test_damaged_vocabulary_assets_name_the_file(lookup_file, tmp_path, content, match):
    source, vocabulary = lookup_file
    path = _with_members(source, tmp_path / "v.keras", replace={vocabulary: content})
    with pytest.raises(FileFormatError, match=f"v.keras'.*{match}"):
        lamina.models.load_model(path)


# -------------------------------------------- 4. HDF5 links and outside data
def _outside_variants(tmp_path):
    secret = tmp_path / "secret.h5"
    with h5py.File(secret, "w") as f:
        f["data"] = np.full((4, 8), 7.0, "float32")
    raw = tmp_path / "raw.bin"
    np.full((4, 8), 7.0, "float32").tofile(raw)

    def external_link(group, key):
        group[key] = h5py.ExternalLink(str(secret), "/data")

    def external_storage(group, key):
        group.create_dataset(key, (4, 8), "float32", external=[(str(raw), 0, 128)])

    def virtual(group, key):
        layout = h5py.VirtualLayout((4, 8), "float32")
        layout[:] = h5py.VirtualSource(str(secret), "data", shape=(4, 8))
        group.create_virtual_dataset(key, layout)

    return {"link": external_link, "storage": external_storage, "virtual": virtual}


@pytest.mark.parametrize("kind", ["link", "storage", "virtual"])
@pytest.mark.parametrize("fmt", ["keras", "weights", "legacy"])
def test_hdf5_data_outside_the_file_is_refused(saved, tmp_path, kind, fmt):
    folder, _ = saved
    plant = _outside_variants(tmp_path)[kind]
    if fmt == "legacy":
        path = tmp_path / "m.h5"
        path.write_bytes((folder / "m.h5").read_bytes())
        with h5py.File(path, "r+") as f:
            group = f["model_weights/a/a"]
            key = next(k for k in group if k.startswith("kernel"))
            del group[key]
            plant(group, key)
        load = lambda: lamina.models.load_model(path)  # noqa: E731
    else:
        model = _model()
        weights = tmp_path / "m.weights.h5"
        model.save_weights(weights)
        with h5py.File(weights, "r+") as f:
            del f["layers/dense/vars/0"]
            plant(f["layers/dense/vars"], "0")
        if fmt == "weights":
            path = weights
            load = lambda: model.load_weights(path)  # noqa: E731
        else:
            path = _with_members(
                folder / "m.keras",
                tmp_path / "m.keras",
                replace={"model.weights.h5": weights.read_bytes()},
            )
            load = lambda: lamina.models.load_model(path)  # noqa: E731
    with pytest.raises(FileFormatError, match="link|outside the file; refused"):
        load()
