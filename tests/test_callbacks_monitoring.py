"""TensorBoard (event files read back with tensorboard's own reader),
RemoteMonitor (against a local HTTP server) and SwapEMAWeights (against Keras)."""

from __future__ import annotations

import http.server
import json
import os
import sys
import threading
import urllib.parse

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina import callbacks

RNG = np.random.default_rng(0)
X = RNG.standard_normal((32, 5)).astype("float32")
Y = (X[:, :2] * 2.0 + 0.1 * RNG.standard_normal((32, 2))).astype("float32")


def _model(k):
    return k.Sequential(
        [k.Input((5,)), k.layers.Dense(8, activation="tanh"), k.layers.Dense(2)]
    )


def _events(directory):
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )

    accumulator = EventAccumulator(
        str(directory), size_guidance={"scalars": 0, "histograms": 0, "tensors": 0}
    )
    accumulator.Reload()
    return accumulator


def _scalars(accumulator, tag):
    return [(e.step, e.value) for e in accumulator.Scalars(tag)]


# ----------------------------------------------------------------- TensorBoard
def test_tensorboard_event_files_hold_the_history(tmp_path):
    model = _model(lamina)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    board = callbacks.TensorBoard(tmp_path, histogram_freq=2, update_freq=3)
    history = model.fit(X, Y, batch_size=8, epochs=3, validation_split=0.25,
                        verbose=0, callbacks=[board]).history  # fmt: skip
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    train, val = _events(tmp_path / "train"), _events(tmp_path / "validation")
    for name in ("loss", "mae"):
        for events, key in ((train, name), (val, f"val_{name}")):
            steps, values = zip(*_scalars(events, f"epoch_{name}"))
            assert steps == (0, 1, 2)
            np.testing.assert_allclose(values, history[key], rtol=1e-6)
    lr = _scalars(train, "epoch_learning_rate")
    assert [s for s, _ in lr] == [0, 1, 2] and lr[0][1] == pytest.approx(0.001)
    # 3 batches per epoch: global batches 3, 6, 9 are written (every 3rd)
    assert [s for s, _ in _scalars(train, "batch_loss")] == [3, 6, 9]
    evaluations = _scalars(val, "evaluation_loss_vs_iterations")
    assert [s for s, _ in evaluations] == [3, 6, 9]
    np.testing.assert_allclose([v for _, v in evaluations], history["val_loss"], 1e-6)
    histograms = train.Tags()["histograms"]
    assert sorted(histograms) == sorted(
        f"{w.path}/histogram" for layer in model.layers for w in layer.weights
    )
    kernel_tag = f"{model.layers[0].kernel.path}/histogram"  # layer names vary
    assert [e.step for e in train.Histograms(kernel_tag)] == [0, 2]
    kernel = train.Histograms(kernel_tag)[-1].histogram_value
    assert kernel.num == 40 and kernel.sum == pytest.approx(
        float(model.layers[0].kernel.detach().sum()), rel=1e-4, abs=1e-4
    )
    # the Keras conceptual graph (model JSON) and torch's op graph
    assert "keras" in train.Tags()["tensors"] and train.Tags()["graph"]
    text = train.Tensors("keras")[0].tensor_proto.string_val[0].decode()
    assert json.loads(text)["class_name"] == "Sequential"


def test_tensorboard_options_and_errors(tmp_path, monkeypatch):
    model = _model(lamina)
    model.compile(optimizer="sgd", loss="mse")
    board = callbacks.TensorBoard(
        tmp_path, write_graph=False, write_steps_per_second=True, update_freq="batch",
        histogram_freq=1, write_images=True,
    )  # fmt: skip
    model.fit(X, Y, batch_size=16, epochs=1, verbose=0, callbacks=[board])
    train = _events(tmp_path / "train")
    assert [s for s, _ in _scalars(train, "batch_loss")] == [1, 2]
    assert _scalars(train, "epoch_steps_per_second")[0][1] > 0
    kernel_image = f"{model.layers[0].kernel.path}/image"
    assert kernel_image in train.Tags()["images"] and not train.Tags()["graph"]
    with pytest.raises(ValueError, match="`update_freq` must be an integer >= 1"):
        callbacks.TensorBoard(tmp_path, update_freq=0)
    with pytest.raises(ValueError, match="`profile_batch` must be 0 .profiling"):
        callbacks.TensorBoard(tmp_path, profile_batch=2)
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ImportError, match=r"pip install 'lamina\[tensorboard\]'"):
        callbacks.TensorBoard(tmp_path)


def test_tensorboard_embeddings_and_multi_optimizer(tmp_path):
    model = lamina.Sequential(
        [lamina.Input((3,), dtype="int32"), lamina.layers.Embedding(10, 4, name="emb"),
         lamina.layers.GlobalAveragePooling1D(), lamina.layers.Dense(1, name="out")]
    )  # fmt: skip
    table = lamina.optimizers.OptimizerMap(
        lamina.optimizers.SGD(0.1, name="slow"),
        {"out/.*": lamina.optimizers.Adam(name="fast")},
    )
    model.compile(optimizer=lamina.optimizers.MultiOptimizer(table), loss="mse")
    board = callbacks.TensorBoard(tmp_path, embeddings_freq=1,
                                  embeddings_metadata={"emb": "words.tsv"})  # fmt: skip
    model.fit(np.ones((4, 3), "int32"), np.ones((4, 1)), epochs=1, verbose=0,
              callbacks=[board])  # fmt: skip
    config = (tmp_path / "projector_config.pbtxt").read_text()
    assert 'metadata_path: "words.tsv"' in config and "embeddings {" in config
    assert (tmp_path / "train" / "keras_embedding.ckpt-0.weights.h5").exists()
    tags = _events(tmp_path / "train").Tags()["scalars"]
    assert {"epoch_learning_rate_fast", "epoch_learning_rate_slow"} <= set(tags)
    with pytest.raises(
        ValueError, match=r"not Embedding layers of the model: \['out'\]"
    ):
        callbacks.TensorBoard(tmp_path, embeddings_freq=1,
                              embeddings_metadata={"out": "x"}).set_model(model)  # fmt: skip


# --------------------------------------------------------------- RemoteMonitor
class _Recorder(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Recorder.received = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Recorder.received
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("as_json", [False, True])
def test_remote_monitor_posts_each_epoch(server, as_json):
    root, received = server
    model = _model(lamina)
    model.compile(optimizer="sgd", loss="mse")
    monitor = callbacks.RemoteMonitor(root, path="/events/", send_as_json=as_json,
                                      headers={"X-Run": "7"})  # fmt: skip
    history = model.fit(X, Y, epochs=2, verbose=0, callbacks=[monitor]).history
    assert [path for path, _, _ in received] == ["/events/", "/events/"]
    for epoch, (_, content_type, body) in enumerate(received):
        if as_json:
            assert content_type == "application/json"
            sent = json.loads(body)
        else:
            assert content_type == "application/x-www-form-urlencoded"
            sent = json.loads(urllib.parse.parse_qs(body.decode())["data"][0])
        assert sent == {"epoch": epoch, "loss": pytest.approx(history["loss"][epoch])}


def test_remote_monitor_warns_when_unreachable():
    monitor = callbacks.RemoteMonitor("http://127.0.0.1:9")  # discard port: closed
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server"):
        monitor.on_epoch_end(0, {"loss": np.float32(1.5)})


# ------------------------------------------------------------- SwapEMAWeights
def _ema_pair():
    theirs, ours = _model(keras), _model(lamina)
    ours.set_weights(theirs.get_weights())
    theirs.compile(keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5), "mse")
    ours.compile(lamina.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5), "mse")
    return ours, theirs


@pytest.mark.parametrize("swap_on_epoch", [False, True])
def test_swap_ema_weights_matches_keras(swap_on_epoch):
    ours, theirs = _ema_pair()
    results = []
    for model, module in ((ours, lamina), (theirs, keras)):
        swap = module.callbacks.SwapEMAWeights(swap_on_epoch=swap_on_epoch)
        history = model.fit(X, Y, batch_size=8, epochs=2, validation_split=0.25,
                            shuffle=False, verbose=0, callbacks=[swap]).history  # fmt: skip
        results.append((history, model.get_weights()))
    (ours_history, ours_weights), (their_history, their_weights) = results
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(ours_history[key], their_history[key], rtol=1e-5)
    for a, b in zip(ours_weights, their_weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_swap_ema_weights_swaps_back_after_predict_and_needs_ema():
    ours, _ = _ema_pair()
    ours.fit(X, Y, epochs=1, verbose=0)
    before = [w.copy() for w in ours.get_weights()]
    averages = [a.detach().clone() for a in ours.optimizer._averages]
    swap = callbacks.SwapEMAWeights()
    with_ema = ours.predict(X[:4], verbose=0, callbacks=[swap])
    for a, b in zip(ours.get_weights(), before):  # training weights are back
        np.testing.assert_array_equal(a, b)
    plain = lamina.Sequential(ours.layers)
    with torch.no_grad():
        for weight, average in zip(plain.trainable_weights, averages):
            weight.copy_(average)
    np.testing.assert_allclose(with_ema, plain.predict(X[:4], verbose=0), 1e-6)
    model = _model(lamina)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="must be created with use_ema=True"):
        model.evaluate(X, Y, verbose=0, callbacks=[callbacks.SwapEMAWeights()])
