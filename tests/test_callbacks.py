"""Callbacks: the hooks fit/evaluate/predict call, and each built-in callback,
against Keras 3 where the outcome is deterministic."""

from __future__ import annotations

import csv

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina import callbacks

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 5)).astype("float32")
Y = (X[:, :2] * 2.0 + 0.1 * RNG.standard_normal((40, 2))).astype("float32")


def _model(k, dropout=0.0):
    layers = [k.Input((5,)), k.layers.Dense(8, activation="tanh")]
    if dropout:
        layers.append(k.layers.Dropout(dropout))
    return k.Sequential([*layers, k.layers.Dense(2)])


def _pair(optimizer=("sgd", {"learning_rate": 0.1})):
    theirs, ours = _model(keras), _model(lamina)
    ours.set_weights(theirs.get_weights())
    name, kwargs = optimizer
    theirs.compile(keras.optimizers.get({"class_name": name, "config": kwargs}), "mse")
    ours.compile(lamina.optimizers.get({"class_name": name, "config": kwargs}), "mse")
    return ours, theirs


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []


def _recording_hook(name):
    return lambda self, *args, **kwargs: self.calls.append(name)


for _hook in dir(callbacks.Callback):
    if _hook.startswith("on_") and _hook not in ("on_batch_begin", "on_batch_end"):
        setattr(Recorder, _hook, _recording_hook(_hook))


def test_hooks_are_called_in_keras_order():
    model, _ = _pair()
    recorder = Recorder()
    history = model.fit(X, Y, batch_size=20, epochs=2, verbose=0, callbacks=[recorder],
                        validation_data=(X, Y))  # fmt: skip
    epoch = ["on_epoch_begin"] + ["on_train_batch_begin", "on_train_batch_end"] * 2
    validation = ["on_test_begin"] + ["on_test_batch_begin", "on_test_batch_end"] * 2
    expected = ["on_train_begin"] + (
        epoch + validation + ["on_test_end", "on_epoch_end"]
    ) * 2
    assert recorder.calls == [*expected, "on_train_end"]
    assert history.epoch == [0, 1] and history.params == {
        "verbose": 0, "epochs": 2, "steps": 2
    }  # fmt: skip
    assert recorder.model is model and model.history is history
    recorder.calls.clear()
    model.evaluate(X, Y, batch_size=40, verbose=0, callbacks=[recorder])
    model.predict(X, batch_size=40, verbose=0, callbacks=[recorder])
    assert recorder.calls == [
        "on_test_begin", "on_test_batch_begin", "on_test_batch_end", "on_test_end",
        "on_predict_begin", "on_predict_batch_begin", "on_predict_batch_end",
        "on_predict_end",
    ]  # fmt: skip


def test_lambda_callback_gets_python_floats():
    seen = []
    model, _ = _pair()
    hook = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append((epoch, logs)),
        on_train_batch_end=lambda batch, logs: seen.append(type(logs["loss"])),
    )
    model.fit(X, Y, batch_size=40, epochs=1, verbose=0, callbacks=[hook])
    assert (
        seen[0] is float and seen[1][0] == 0 and isinstance(seen[1][1]["loss"], float)
    )


def test_early_stopping_matches_keras():
    ours, theirs = _pair(("sgd", {"learning_rate": 0.5}))
    results = []
    for model, k in ((theirs, keras), (ours, lamina)):
        stopper = k.callbacks.EarlyStopping(
            monitor="loss", min_delta=0.05, patience=2, restore_best_weights=True
        )
        history = model.fit(X, Y, batch_size=8, epochs=30, shuffle=False, verbose=0,
                            callbacks=[stopper])  # fmt: skip
        results.append(
            (stopper.stopped_epoch, stopper.best_epoch, history.history["loss"])
        )
    assert results[1][:2] == results[0][:2] and results[0][0] > 0
    np.testing.assert_allclose(results[1][2], results[0][2], atol=1e-4)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_reduce_lr_on_plateau_matches_keras():
    ours, theirs = _pair(("sgd", {"learning_rate": 0.5}))
    histories = []
    for model, k in ((theirs, keras), (ours, lamina)):
        reduce = k.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1,
                                               min_delta=0.2, min_lr=0.05)  # fmt: skip
        histories.append(
            model.fit(X, Y, batch_size=8, epochs=8, shuffle=False, verbose=0,
                      callbacks=[reduce]).history
        )  # fmt: skip
    np.testing.assert_allclose(
        histories[1]["learning_rate"], histories[0]["learning_rate"], rtol=1e-6
    )
    assert min(histories[1]["learning_rate"]) == pytest.approx(0.05)


def test_learning_rate_scheduler():
    model, _ = _pair()
    scheduler = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    history = model.fit(X, Y, epochs=3, verbose=0, callbacks=[scheduler])
    np.testing.assert_allclose(
        history.history["learning_rate"], [0.1, 0.05, 0.1 / 3], 1e-6
    )
    bad = callbacks.LearningRateScheduler(lambda epoch: "fast")
    with pytest.raises(ValueError, match="must return a float; got 'fast'"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[bad])


def test_terminate_on_nan_stops_cleanly(capsys):
    model, _ = _pair()
    y = Y.copy()
    y[13] = np.nan
    history = model.fit(X, y, batch_size=4, epochs=5, shuffle=False, verbose=0,
                        callbacks=[callbacks.TerminateOnNaN()])  # fmt: skip
    assert len(history.epoch) == 1 and np.isnan(history.history["loss"][0])
    assert "Batch 3: Invalid loss, terminating training" in capsys.readouterr().out
    assert int(model.optimizer.iterations) == 4
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 0"):
        model.fit(X, y, batch_size=4, shuffle=False, verbose=0,
                  callbacks=[callbacks.TerminateOnNaN(raise_error=True)])  # fmt: skip


def test_csv_logger(tmp_path):
    model, _ = _pair()
    path = tmp_path / "log.csv"
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[callbacks.CSVLogger(path)],
              validation_split=0.25)  # fmt: skip
    model.fit(
        X, Y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(path, append=True)]
    )
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "0"] and rows[3][2] == "NA"
    assert float(rows[1][1]) > float(rows[2][1])


def test_model_checkpoint_weights_and_best_only(tmp_path):
    model, _ = _pair(("sgd", {"learning_rate": 0.5}))
    pattern = str(tmp_path / "ckpt-{epoch:02d}.weights.h5")
    best = str(tmp_path / "best.weights.h5")
    checkpoints = [
        callbacks.ModelCheckpoint(pattern, save_weights_only=True),
        callbacks.ModelCheckpoint(
            best,
            monitor="val_loss",
            save_best_only=True,
            save_weights_only=True,
            mode="min",
        ),  # fmt: skip
    ]
    saved = []
    spy = callbacks.LambdaCallback(
        on_epoch_end=lambda e, logs: saved.append(logs["val_loss"])
    )
    model.fit(X, Y, epochs=3, verbose=0, validation_data=(X, Y),
              callbacks=[*checkpoints, spy])  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "best.weights.h5", "ckpt-01.weights.h5", "ckpt-02.weights.h5", "ckpt-03.weights.h5"
    ]  # fmt: skip
    restored = _model(keras)  # Keras reads lamina's checkpoint
    restored.load_weights(str(tmp_path / "ckpt-03.weights.h5"))
    for a, b in zip(restored.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert checkpoints[1].best == pytest.approx(min(saved))
    with pytest.raises(ValueError, match="must end in `.weights.h5`"):
        callbacks.ModelCheckpoint(str(tmp_path / "x.keras"), save_weights_only=True)
    with pytest.raises(ValueError, match="`save_freq` must be 'epoch' or an integer"):
        callbacks.ModelCheckpoint(str(tmp_path / "x.keras"), save_freq="batch")


class Crash(callbacks.Callback):
    """Raises in the middle of epoch ``epoch``, after batch ``batch``."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt("simulated crash")


def _training_run(backup_dir=None, save_freq="epoch", crash=None):
    torch.manual_seed(0)
    model = _model(lamina, dropout=0.3)
    model.set_weights([np.full(w.shape, 0.1, "float32") for w in model.get_weights()])
    model.compile("adam", "mse")
    extra = [] if crash is None else [crash]
    backup = (
        [callbacks.BackupAndRestore(backup_dir, save_freq=save_freq)]
        if backup_dir
        else []
    )
    model.fit(X, Y, batch_size=8, epochs=4, verbose=0, callbacks=backup + extra)
    return model


@pytest.mark.parametrize("save_freq", ["epoch", 3])
def test_backup_and_restore_resumes_exactly(tmp_path, save_freq):
    reference = _training_run()
    with pytest.raises(KeyboardInterrupt):
        _training_run(tmp_path / "backup", save_freq, crash=Crash(epoch=2, batch=3))
    assert (tmp_path / "backup" / "latest.weights.h5").exists()
    torch.manual_seed(123)  # the backup restores the random state it needs
    resumed = _training_run(tmp_path / "backup", save_freq)
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert (
        int(resumed.optimizer.iterations) == int(reference.optimizer.iterations) == 20
    )
    assert not (tmp_path / "backup").exists()


def test_backup_and_restore_with_a_model_built_by_fit(tmp_path):
    model = lamina.Sequential([lamina.layers.Dense(2)])  # built from the first batch
    model.compile("sgd", "mse")
    backup = callbacks.BackupAndRestore(tmp_path / "b", delete_checkpoint=False)
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[backup])
    assert (tmp_path / "b" / "training_metadata.json").exists()
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[backup])  # both epochs are done
    assert int(model.optimizer.iterations) == 4
