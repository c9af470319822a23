"""Export: one model per layer family traced once by ``torch.export`` (the
``.pt2`` round trip) and converted to ONNX (run by onnxruntime, any batch size),
compared with lamina's own outputs; the CLI, ``ExportArchive`` and the errors."""

from __future__ import annotations

import numpy as np
import onnx  # the dev and export extras
import onnxruntime as ort
import pytest
import torch

import lamina
from lamina import cli, layers
from lamina.export import ExportArchive, exporters, load_archive

RNG = np.random.default_rng(16)


def _sequential(shape, *stack):
    return lamina.Sequential([lamina.Input(shape), *stack])


def _attention():
    inputs = lamina.Input((5, 8))
    outputs = layers.MultiHeadAttention(2, 4)(inputs, inputs)
    return lamina.Model(inputs, outputs)


FAMILIES = {
    "conv": lambda: _sequential(
        (8, 8, 3),
        layers.Conv2D(4, 3, padding="same"),
        layers.SeparableConv2D(4, 3),
        layers.Conv2DTranspose(2, 3, strides=2),
    ),
    "pooling": lambda: _sequential(
        (8, 8, 3),
        layers.MaxPooling2D(2),
        layers.AveragePooling2D(2, padding="same"),
        layers.GlobalMaxPooling2D(),
    ),
    "rnn": lambda: _sequential(
        (5, 3), layers.LSTM(4, return_sequences=True), layers.GRU(3)
    ),
    "normalization": lambda: _sequential(
        (6, 4),
        layers.BatchNormalization(),
        layers.LayerNormalization(),
        layers.GroupNormalization(2),
    ),
    "attention": _attention,
    "locally_connected": lambda: _sequential((6, 3), layers.LocallyConnected1D(2, 3)),
}


def _run_onnx(proto, x):
    session = ort.InferenceSession(
        proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: x})[0]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_export_round_trips_through_torch_export_and_onnxruntime(family, tmp_path):
    torch.manual_seed(0)
    model = FAMILIES[family]()
    x = RNG.normal(size=(3, *model.inputs[0].shape[1:])).astype("float32")
    expected = model.predict(x, verbose=0)
    program = model.export(tmp_path / "model.pt2", format="torch", verbose=False)
    reloaded = torch.export.load(tmp_path / "model.pt2").module()
    np.testing.assert_allclose(
        reloaded(torch.from_numpy(x)).detach().numpy(), expected, atol=1e-5
    )
    proto = exporters.to_onnx(program, "test")
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # dynamic
    for batch in (3, 1):
        np.testing.assert_allclose(
            _run_onnx(proto, x[:batch]), expected[:batch], atol=1e-5
        )


def test_the_command_line_exports_a_keras_file_to_onnx(tmp_path, capsys):
    model = FAMILIES["conv"]()
    model.save(tmp_path / "model.keras")
    code = cli.main(
        ["export", str(tmp_path / "model.keras"), str(tmp_path / "out.onnx")]
    )
    assert code == 0, capsys.readouterr().err
    proto = onnx.load(tmp_path / "out.onnx")
    assert {p.key: p.value for p in proto.metadata_props}["opset"] == "18"
    assert proto.opset_import[0].version == 18
    x = RNG.normal(size=(2, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(
        _run_onnx(proto, x), model.predict(x, verbose=0), atol=1e-5
    )


def test_an_archive_holds_several_endpoints(tmp_path):
    model = _sequential((3,), layers.Dense(2))
    archive = ExportArchive()
    archive.track(model)
    spec = [lamina.InputSpec(shape=(None, 3), dtype="float32")]
    archive.add_endpoint("serve", lambda x: model(x, training=False), spec)
    archive.add_endpoint("double", lambda x: 2 * model(x, training=False), spec)
    archive.add_variable_collection("weights", model.weights)
    archive.write_out(tmp_path / "archive", verbose=False)
    reloaded = load_archive(tmp_path / "archive")
    x = torch.from_numpy(RNG.normal(size=(4, 3)).astype("float32"))
    expected = model.predict(x, verbose=0)
    np.testing.assert_allclose(reloaded.serve(x).detach().numpy(), expected, atol=1e-6)
    np.testing.assert_allclose(
        reloaded.double(x).detach().numpy(), 2 * expected, atol=1e-6
    )
    np.testing.assert_array_equal(
        reloaded.variable_collections["weights"]["0"], model.weights[0].numpy()
    )


def test_an_onnx_archive_writes_one_file_per_endpoint(tmp_path):
    model = _sequential((3,), layers.Dense(2))
    archive = ExportArchive(format="onnx")
    archive.track_and_add_endpoint("serve", model, [(None, 3)])
    archive.write_out(tmp_path / "archive", verbose=False)
    x = RNG.normal(size=(4, 3)).astype("float32")
    proto = onnx.load(tmp_path / "archive" / "serve.onnx")
    np.testing.assert_allclose(
        _run_onnx(proto, x), model.predict(x, verbose=0), atol=1e-6
    )
    with pytest.raises(ValueError, match='format="torch" archive'):
        load_archive(tmp_path / "archive")


def test_errors_name_the_format_the_layer_and_the_op(tmp_path):
    model = _sequential(
        (3,), layers.Lambda(lambda x: torch.special.zeta(x, x), name="zeta")
    )
    with pytest.raises(ValueError, match=r"`format` must be one of .*tf_saved_model"):
        model.export(tmp_path / "m", format="tf_saved_model")
    with pytest.raises(ValueError, match=r"prims.zeta in layer 'zeta' \(Lambda\)"):
        model.export(tmp_path / "m.onnx", verbose=False)
    with pytest.raises(ValueError, match="`input_signature` must be a shape whose"):
        _sequential((None, 3), layers.LSTM(2)).export(tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="preceded by `track"):
        ExportArchive().add_endpoint("serve", lambda x: x, [(None, 3)])
