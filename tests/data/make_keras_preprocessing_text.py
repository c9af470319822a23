"""Writes keras_preprocessing_text.json (and keras_text_model.keras): what Keras 3
computes for the preprocessing layers that need TensorFlow (Hashing,
HashedCrossing, the lookups, TextVectorization, Discretization.adapt), for the
FIXTURE_CASES and FIXTURE_ERRORS of tests/cases_preprocessing_text.py, read by
tests/test_preprocessing_text.py. It also writes a text model with Keras and
loads lamina_text_model.keras (written here by lamina) in Keras, recording both
models' outputs and vocabularies. lamina never imports TensorFlow; run this with
a Python that has keras==3.15.1 and tensorflow (torch backend), from the
repository root:

    KERAS_BACKEND=torch PYTHONPATH=. /path/to/tf/python \\
        tests/data/make_keras_preprocessing_text.py
"""

import json
import os
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tests import cases_preprocessing_text as cases

HERE = Path(__file__).parent


def as_list(value):
    if isinstance(value, list):
        return [as_list(v) for v in value]
    array = keras.ops.convert_to_numpy(value)
    return {"values": array.tolist(), "dtype": str(array.dtype), "shape": array.shape}


def plain(value):
    return json.loads(json.dumps(value, default=lambda v: v.tolist()))


def symbolic_shape(layer, inputs):
    specs = inputs if isinstance(inputs, list) else [inputs]
    tensors = [
        keras.Input(batch_shape=(None, *np.shape(x)[1:]), dtype=_dtype(x))
        for x in specs
    ]
    try:
        fresh = type(layer).from_config(layer.get_config())
        out = fresh(tensors if isinstance(inputs, list) else tensors[0])
        return list(out.shape), str(out.dtype)
    except Exception as error:  # noqa: BLE001 - recorded, not hidden
        return f"{type(error).__name__}: {error}", None


def _dtype(x):
    return "string" if np.asarray(x).dtype.kind in "USO" else str(np.asarray(x).dtype)


def run_case(case):
    inputs, adapt = case.data()
    layer = getattr(keras.layers, case.layer)(**case.kwargs)
    if adapt is not None:
        layer.adapt(adapt)
    call_inputs = list(inputs) if case.layer == "HashedCrossing" else inputs
    if case.layer == "StringLookup" and case.kwargs.get("invert"):
        output = np.array([layer(np.array([i]))[0] for i in inputs])
        output = {"values": output.tolist(), "dtype": "str", "shape": output.shape}
    else:
        output = as_list(layer(call_inputs))
    record = {"output": output, "config": plain(layer.get_config())}
    if hasattr(layer, "get_vocabulary"):
        record["vocabulary"] = plain(
            [str(v) if isinstance(v, str) else v for v in layer.get_vocabulary()]
        )
    if case.layer == "Discretization":
        record["bin_boundaries"] = plain(layer.bin_boundaries)
    if case.layer != "StringLookup" or not case.kwargs.get("invert"):
        record["symbolic"] = symbolic_shape(layer, call_inputs)
    return record


def run_error(layer, kwargs):
    try:
        getattr(keras.layers, layer)(**kwargs)
    except Exception as error:  # noqa: BLE001 - its class is the answer
        return [c.__name__ for c in type(error).__mro__]
    return None


def text_models():
    """Keras writes one model; Keras reads the one lamina wrote (run lamina's
    writer first: tests/test_preprocessing_text.py make_text_model)."""
    keras.utils.set_random_seed(0)
    keras_path = HERE / "keras_text_model.keras"
    cases.make_text_model(keras).save(keras_path)
    import lamina  # noqa: PLC0415 - only to write lamina's file for Keras to read

    lamina_path = HERE / "lamina_text_model.keras"
    cases.make_text_model(lamina).save(lamina_path)
    results = {}
    for name, path in (("keras", keras_path), ("lamina", lamina_path)):
        model = keras.saving.load_model(path)
        layers = {layer.name: layer for layer in model.layers}
        x = np.array(cases.TEXT_MODEL_INPUTS)[:, None]
        ids = layers["words"](x)
        logits = layers["logits"](layers["pool"](layers["embed"](ids)))
        results[name] = {
            "ids": keras.ops.convert_to_numpy(ids).tolist(),
            "logits": keras.ops.convert_to_numpy(logits).tolist(),
            "bag": keras.ops.convert_to_numpy(layers["bag"](x)).tolist(),
            "vocabulary": [str(v) for v in layers["words"].get_vocabulary()],
        }
    return results


def main():
    out = {
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
        "cases": {case.id: run_case(case) for case in cases.FIXTURE_CASES},
        "errors": [
            run_error(layer, kwargs) for layer, kwargs, _ in cases.FIXTURE_ERRORS
        ],
        "text_models": text_models(),
    }
    path = HERE / "keras_preprocessing_text.json"
    path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
