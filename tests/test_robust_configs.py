"""Hostile and damaged model configs (issue 18, items 1 and 2).

Entries that name something other than a Keras layer are refused as unsafe, and a
seeded fuzzer mutates valid configs (deleted keys, wrong types, null, NaN,
absurd sizes, unknown keys, bogus class and module names, dangling and cyclic
``inbound_nodes``, deep nesting) and loads each through ``.keras`` files,
``model_from_json`` and Keras 2 ``.h5`` files: every load must give a working
model or raise a clear ``ValueError`` naming the file, within seconds, without
trying to allocate terabytes.
"""

import copy
import functools
import json
import math
import pathlib
import random
import re
import shutil
import signal
import time
import zipfile

import h5py
import numpy as np
import pytest

import lamina
from lamina.saving.serialization import ConfigError
from lamina.utils import tree

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
SECONDS_PER_LOAD = 10


def _functional():
    inputs = lamina.Input((4,), name="x")
    hidden = lamina.layers.Dense(5, activation="relu", name="hidden")(inputs)
    hidden = lamina.layers.BatchNormalization(name="norm")(hidden)
    scaled = lamina.ops.add(hidden * 2.0, 1.0)
    joined = lamina.ops.concatenate([hidden, scaled], axis=-1)
    outputs = lamina.layers.Dense(2, name="out")(lamina.layers.Dropout(0.1)(joined))
    return lamina.Model(inputs, outputs, name="fun")


def _sequential():
    return lamina.Sequential(
        [
            lamina.Input((6, 3)),
            lamina.layers.Conv1D(4, 2, name="conv"),
            lamina.layers.LSTM(3, return_sequences=True, name="lstm"),
            lamina.layers.Flatten(name="flat"),
            lamina.layers.Dense(2, name="head"),
        ],
        name="seq",
    )


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bases")
    made = {}
    for name, make in (("fun", _functional), ("seq", _sequential)):
        model = make()
        model.compile("adam", "mse")
        path = folder / f"{name}.keras"
        model.save(path)
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
        made[name] = (path, config)
    return made


def _rewrite_keras(base, out, config_text):
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(out, "w") as dst:
        for member in src.namelist():
            data = src.read(member)
            dst.writestr(member, config_text if member == "config.json" else data)
    return out


# ------------------------------------------------------ 1. unsafe entries
UNSAFE = {
    "builtin": ({"module": "builtins", "class_name": "exec", "config": {}}, "builtin"),
    "function": (
        {
            "module": "keras.layers",
            "class_name": "function",
            "config": "print",
            "registered_name": "function",
        },
        "Python function, not a layer class",
    ),
    "module": (
        {"module": "subprocess", "class_name": "Popen", "config": {"args": "id"}},
        "module 'subprocess' is not part of Keras",
    ),
    "dunder": (
        {"module": "keras", "class_name": "__import__", "config": {"name": "os"}},
        "builtin",
    ),
}


@pytest.mark.parametrize("kind", sorted(UNSAFE))
def test_entries_naming_non_layers_are_refused_as_unsafe(bases, tmp_path, kind):
    entry, reason = UNSAFE[kind]
    base, config = bases["fun"]
    config = copy.deepcopy(config)
    config["config"]["layers"].append(dict(entry, name="payload", inbound_nodes=[]))
    text = json.dumps(config)
    path = _rewrite_keras(base, tmp_path / "attack.keras", text)
    h5 = tmp_path / "attack.h5"
    lamina.models.load_model(base).save(h5)
    with h5py.File(h5, "r+") as f:
        f.attrs["model_config"] = json.dumps(config).encode()
    loads = {
        str(path): lambda: lamina.models.load_model(path),
        "the JSON string": lambda: lamina.models.model_from_json(text),
        str(h5): lambda: lamina.models.load_model(h5),
    }
    for source, load in loads.items():
        for safe_mode in (True, False):  # names are never imported, even so
            with pytest.raises(ConfigError) as info:
                load() if safe_mode else lamina.models.load_model(path, safe_mode=False)
            message = str(info.value)
            assert "refused as unsafe" in message and reason in message, message
            assert "layer 'payload'" in message
            assert source in message or not safe_mode


# ------------------------------------------------------------ 2. the fuzzer
ODD_VALUES = [
    None,
    "",
    "garbage",
    -1,
    0,
    10**12,
    -(10**12),
    2**63,
    1.5,
    math.nan,
    math.inf,
    True,
    [],
    {},
    [1, 2],
    {"class_name": "Dense"},
]
BOGUS_NAMES = ["exec", "function", "__import__", "NoSuchLayer", "os.system", ""]
BOGUS_MODULES = ["os", "builtins", "subprocess", "keras.src.ops.nope", None, 7]


def _paths(node, prefix=()):
    """Every (path, value) inside a JSON tree."""
    yield prefix, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _parent(config, path):
    node = config
    for key in path[:-1]:
        node = node[key]
    return node


def _layer_entries(config):
    return [
        value
        for _, value in _paths(config)
        if isinstance(value, dict) and "class_name" in value and "config" in value
    ]


def _histories(config):
    return [
        value
        for path, value in _paths(config)
        if path and path[-1] == "keras_history" and isinstance(value, list)
    ]


def _mutate_value(rng, config):
    path, value = rng.choice([p for p in _paths(config) if p[0]])
    parent = _parent(config, path)
    choice = rng.random()
    if choice < 0.25:
        del parent[path[-1]]
    elif isinstance(value, int) and not isinstance(value, bool) and choice < 0.6:
        parent[path[-1]] = rng.choice([-value - 1, 0, 10**12, 2**40, value * 1000])
    else:
        parent[path[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))


def _mutate_names(rng, config):
    entry = rng.choice(_layer_entries(config))
    key = rng.choice(["class_name", "module", "registered_name"])
    entry[key] = rng.choice(BOGUS_MODULES if key == "module" else BOGUS_NAMES)


def _mutate_graph(rng, config):
    histories = _histories(config)
    names = [e.get("name") for e in _layer_entries(config) if e.get("name")]
    if not histories:
        return _mutate_value(rng, config)
    history = rng.choice(histories)
    kind = rng.randrange(4)
    if kind == 0:  # dangling: a layer that does not exist
        history[0] = "no_such_layer"
    elif kind == 1:  # cyclic: a layer fed by itself or by a later layer
        history[0] = rng.choice(names)
    elif kind == 2:
        history[1] = rng.choice([5, -1, 10**9])
    else:
        history[2] = rng.choice([3, -7, 10**9])


def _mutate_unknown_key(rng, config):
    dicts = [v for _, v in _paths(config) if isinstance(v, dict)]
    rng.choice(dicts)[rng.choice(["bogus", "__class__", "units_", "eval"])] = 1


def _mutate_depth(rng, config):
    path, _ = rng.choice([p for p in _paths(config) if p[0]])
    depth = rng.choice([40, 90, 200, 5000])
    _parent(config, path)[path[-1]] = f"@deep{depth}@"  # nested in `to_text`


def to_text(config) -> str:
    """The config as JSON, with the deep-nesting markers expanded (too deep for
    ``json.dumps`` itself)."""
    return re.sub(
        r'"@deep(\d+)@"',
        lambda m: '{"a": [' * int(m[1]) + "1" + "]}" * int(m[1]),
        json.dumps(config),
    )


MUTATIONS = [
    _mutate_value,
    _mutate_value,
    _mutate_value,
    _mutate_names,
    _mutate_graph,
    _mutate_graph,
    _mutate_unknown_key,
    _mutate_depth,
]


def mutate(config, seed):
    """A copy of ``config`` with 1-3 random mutations (deterministic in ``seed``)."""
    rng = random.Random(seed)
    config = copy.deepcopy(config)
    for _ in range(rng.randint(1, 3)):
        rng.choice(MUTATIONS)(rng, config)
    return config


class _Timeout(BaseException):
    """A load ran past ``SECONDS_PER_LOAD`` (not an Exception: nothing catches it)."""


def _on_alarm(signum, frame):
    raise _Timeout


def _load_outcome(load, source, input_shape):
    """``"loaded"`` or ``"refused"``; fails the test for anything else."""
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(SECONDS_PER_LOAD)
    start = time.perf_counter()
    try:
        model = load()
        _check_works(model, input_shape)
        return "loaded"
    except _Timeout:
        pytest.fail(f"loading {source} took over {SECONDS_PER_LOAD} s")
    except ValueError as e:
        message = str(e)
        assert source in message or "Cannot load" in message, message
        assert "allocate memory" not in message, message  # refused, never tried
        return "refused"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        assert time.perf_counter() - start < SECONDS_PER_LOAD


def _check_works(model, input_shape):
    """A loaded model predicts (when its inputs and outputs are of sane sizes)."""
    rng = np.random.default_rng(0)
    shapes = [tuple(2 if d is None else d for d in t.shape) for t in model.inputs]
    outputs = [tuple(t.shape) for t in model.outputs]
    sizes = [math.prod(d or 1 for d in s) for s in shapes + outputs]
    if max(sizes) > 10**6:
        return
    x = [rng.standard_normal(s).astype(t.dtype) for s, t in zip(shapes, model.inputs)]
    x = x[0] if len(x) == 1 else x
    for out in tree.flatten(model.predict(x, verbose=0)):
        assert out.shape[0] == shapes[0][0]


INPUT_SHAPES = {"fun": (4,), "seq": (6, 3)}


def _report(kind, outcomes):
    loaded = outcomes.count("loaded")
    print(
        f"\n{kind}: {len(outcomes)} mutations, {loaded} loaded "
        f"({loaded / len(outcomes):.0%}), {len(outcomes) - loaded} refused cleanly"
    )


@pytest.mark.parametrize("base_name", ["fun", "seq"])
def test_fuzzed_keras_files_load_or_refuse_clearly(bases, tmp_path, base_name):
    base, config = bases[base_name]
    outcomes = []
    for seed in range(120):
        text = to_text(mutate(config, seed))
        path = _rewrite_keras(base, tmp_path / f"m{seed}.keras", text)
        load = functools.partial(lamina.models.load_model, path)
        outcomes.append(_load_outcome(load, str(path), INPUT_SHAPES[base_name]))
        path.unlink()
    _report(f".keras {base_name}", outcomes)
    assert 0 < outcomes.count("loaded") < len(outcomes)


def test_fuzzed_json_loads_or_refuses_clearly(bases):
    outcomes = []
    for seed in range(1000, 1120):
        name = ("fun", "seq")[seed % 2]
        text = to_text(mutate(bases[name][1], seed))
        load = functools.partial(lamina.models.model_from_json, text)
        outcomes.append(_load_outcome(load, "the JSON string", INPUT_SHAPES[name]))
    _report("model_from_json", outcomes)
    assert 0 < outcomes.count("loaded") < len(outcomes)


def test_fuzzed_keras2_h5_configs_load_or_refuse_clearly(tmp_path):
    base = FIXTURES / "keras2_functional.h5"
    with h5py.File(base) as f:
        config = json.loads(f.attrs["model_config"])
    shape = tuple(lamina.models.load_model(base, compile=False).inputs[0].shape[1:])
    outcomes = []
    for seed in range(2000, 2080):
        path = tmp_path / f"m{seed}.h5"
        shutil.copy(base, path)
        with h5py.File(path, "r+") as f:
            f.attrs["model_config"] = to_text(mutate(config, seed)).encode()
        load = functools.partial(lamina.models.load_model, path, compile=False)
        outcomes.append(_load_outcome(load, str(path), shape))
        path.unlink()
    _report("Keras 2 .h5", outcomes)
    assert 0 < outcomes.count("loaded") < len(outcomes)


def test_absurd_sizes_are_refused_before_allocating(bases, tmp_path):
    base, config = bases["fun"]
    config = copy.deepcopy(config)
    config["config"]["layers"][1]["config"]["units"] = 10**12
    path = _rewrite_keras(base, tmp_path / "huge.keras", json.dumps(config))
    expected = r"'kernel' of shape \(4, 1000000000000\) needs 16,000,000,000,000 bytes"
    for load in (
        lambda: lamina.models.load_model(path),
        lambda: lamina.models.model_from_json(json.dumps(config)),
    ):
        start = time.perf_counter()
        with pytest.raises(ConfigError, match=expected + ".*refusing to allocate"):
            load()
        assert time.perf_counter() - start < SECONDS_PER_LOAD
    small = bases["fun"][1]
    with pytest.raises(ConfigError, match="more than 100 bytes"):
        lamina.models.model_from_config(small, allocation_limit=100)
    lamina.models.model_from_config(small)  # the budget does not outlive a load
