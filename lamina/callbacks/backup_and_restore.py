"""``BackupAndRestore``: resume an interrupted ``fit`` where it stopped."""

from __future__ import annotations

import base64
import json
import os
import shutil

import torch

from lamina.callbacks.callback import Callback


def _encode_rng() -> dict:
    state = {"cpu": base64.b64encode(torch.get_rng_state().numpy().tobytes()).decode()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = [
            base64.b64encode(s.numpy().tobytes()).decode()
            for s in torch.cuda.get_rng_state_all()
        ]
    return state


def _restore_rng(state) -> None:
    if not state:
        return
    decode = lambda text: torch.frombuffer(  # noqa: E731
        bytearray(base64.b64decode(text)), dtype=torch.uint8
    )
    torch.set_rng_state(decode(state["cpu"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([decode(s) for s in state["cuda"]])


class BackupAndRestore(Callback):
    """Back up the training state to ``backup_dir`` and resume from it when
    ``fit`` is run again after an interruption.

    The backup holds the model weights and optimizer state
    (``latest.weights.h5``, Keras's layout) and ``training_metadata.json`` (the
    epoch and batch reached, as in Keras, plus torch's random-number state).
    Resuming restores all of it, skips the batches already done in the
    interrupted epoch and continues, so the run ends with the same weights as one
    that was never interrupted (given the same data and code). Keras resumes at
    the start of the epoch instead.

    Args:
        backup_dir: directory for the backup files.
        save_freq: ``"epoch"`` or a number of batches between backups.
        double_checkpoint: keep the previous backup as ``*.bkp``, used if the
            latest one cannot be read.
        delete_checkpoint: remove ``backup_dir`` when training finishes.
    """

    def __init__(
        self, backup_dir, save_freq="epoch", double_checkpoint=False,
        delete_checkpoint=True,
    ):  # fmt: skip
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: `backup_dir` must be a directory path.")
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(
                "BackupAndRestore: `save_freq` must be 'epoch' or an integer; got "
                f"save_freq={save_freq!r}."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._current_epoch = 0
        self._batches_since_save = 0
        self._last_batch = 0
        self._epoch_rng = None

    def on_train_begin(self, logs=None):
        try:
            self._load()
        except (OSError, ValueError, KeyError):
            previous = self._weights_path + ".bkp"
            if not os.path.exists(previous):
                raise
            shutil.copy(previous, self._weights_path)
            if os.path.exists(self._metadata_path + ".bkp"):
                shutil.copy(self._metadata_path + ".bkp", self._metadata_path)
            self._load()

    def _load(self):
        model = self.model
        if not model.built:
            raise ValueError(
                f"BackupAndRestore needs the model built before fit(); model "
                f"'{model.name}' is not (call it on a batch of data first)."
            )
        if os.path.exists(self._weights_path):
            optimizer = model.optimizer
            if optimizer is not None and not optimizer.built:
                optimizer.build(model.trainable_variables)
            model.load_weights(self._weights_path)
        if not os.path.exists(self._metadata_path):
            return
        with open(self._metadata_path) as f:
            metadata = json.load(f)
        model._initial_epoch = metadata["epoch"]
        self._current_epoch = metadata["epoch"]
        batch = metadata.get("batch", 0)
        if batch:
            model._initial_step = batch
            _restore_rng(metadata.get("rng_epoch"))
            model._after_skip = lambda: _restore_rng(metadata.get("rng"))
        else:
            _restore_rng(metadata.get("rng"))

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch
        self._epoch_rng = _encode_rng()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        if batch <= self._last_batch:
            self._batches_since_save += batch + 1
        else:
            self._batches_since_save += batch - self._last_batch
        self._last_batch = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._current_epoch, batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        self._last_batch = 0
        if self.save_freq == "epoch":
            self._save(epoch + 1, 0)

    def _save(self, epoch, batch):
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for path in (self._weights_path, self._metadata_path):
                if os.path.exists(path):
                    shutil.copy(path, path + ".bkp")
        self.model.save_weights(self._weights_path, overwrite=True)
        metadata = {
            "epoch": epoch,
            "batch": batch,
            "rng": _encode_rng(),
            "rng_epoch": self._epoch_rng,
        }
        temporary = self._metadata_path + ".tmp"
        with open(temporary, "w") as f:
            json.dump(metadata, f)
        os.replace(temporary, self._metadata_path)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
