"""``TensorBoard``: Keras's TensorBoard logs written with torch's
``SummaryWriter`` (the optional ``tensorboard`` package)."""

from __future__ import annotations

import contextlib
import json
import os
import time
import warnings

import numpy as np
import torch

from lamina.callbacks.callback import Callback
from lamina.layers.core import Embedding
from lamina.utils.validation import arg_error, check_int

_MISSING = (
    "TensorBoard: writing event files needs the `tensorboard` package; install "
    "lamina's extra with `pip install 'lamina[tensorboard]'` (or `pip install "
    "tensorboard`)."
)
_EMBEDDING_TENSOR = "layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE"


def _summary_writer_class():
    try:  # an optional extra, and a slow import: only when a TensorBoard is made
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        raise ImportError(_MISSING) from error
    return SummaryWriter


def _check_update_freq(owner, update_freq):
    if update_freq in ("epoch", "batch"):
        return 1 if update_freq == "batch" else "epoch"
    return check_int(owner, "update_freq", update_freq, 1)


class TensorBoard(Callback):
    """Logs for TensorBoard, in Keras's layout: ``log_dir/train`` and
    ``log_dir/validation`` event files (``tensorboard --logdir log_dir``).

    Written, with the tags Keras uses:

    - each epoch, ``epoch_<metric>`` in ``train/`` (with ``epoch_learning_rate``,
      or ``epoch_learning_rate_<name>`` per optimizer of a ``MultiOptimizer``)
      and in ``validation/`` (the ``val_`` prefix dropped);
    - every ``update_freq`` batches (when it is not ``"epoch"``),
      ``batch_<metric>`` in ``train/`` at the global batch number (from 1);
    - after each evaluation, ``evaluation_<metric>_vs_iterations`` in
      ``validation/`` at the optimizer's step count;
    - every ``histogram_freq`` epochs, a histogram ``<weight path>/histogram``
      of every weight of ``model.layers`` (and ``<path>/image`` with
      ``write_images``);
    - with ``write_graph``, the model's JSON under the tag ``keras`` (TensorBoard's
      Keras conceptual graph, as Keras writes it) and, at the first training
      batch, torch's op graph of the model traced on zero inputs in inference
      mode (``SummaryWriter.add_graph``); a model torch cannot trace is warned
      about once and skipped;
    - with ``write_steps_per_second``, ``epoch_steps_per_second`` and
      ``batch_steps_per_second``;
    - every ``embeddings_freq`` epochs, the weights to
      ``train/keras_embedding.ckpt-<epoch>.weights.h5`` and a
      ``projector_config.pbtxt`` naming the ``Embedding`` layers.

    Args:
        log_dir: the directory of the logs.
        histogram_freq: epochs between weight histograms (0: none).
        write_graph: write the model graph.
        write_images: write weights as images along with the histograms.
        write_steps_per_second: log training steps per second.
        update_freq: ``"epoch"``, ``"batch"`` or an integer number of batches
            between batch-level logs.
        profile_batch: must be 0: profiling is not available on the torch
            backend (as in Keras 3 on torch; use ``torch.profiler``).
        embeddings_freq: epochs between embedding checkpoints (0: none).
        embeddings_metadata: a metadata file for all embeddings, or a dict
            ``{layer name: file}``.

    Raises:
        ImportError: when the ``tensorboard`` package is missing (naming the
            extra to install).
        ValueError: for a bad frequency, a non-zero ``profile_batch``, or
            ``embeddings_metadata`` naming a layer that is no ``Embedding``.

    Example:
    >>> import os, tempfile, numpy as np, lamina as keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> logs = tempfile.mkdtemp()
    >>> _ = model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0,
    ...               callbacks=[keras.callbacks.TensorBoard(logs)])
    >>> sorted(os.listdir(logs))
    ['train']
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__()
        self._writer_class = _summary_writer_class()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = check_int(self, "histogram_freq", histogram_freq, 0)
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = _check_update_freq(self, update_freq)
        if profile_batch not in (0, (0, 0), [0, 0], "0", "0,0"):
            raise arg_error(
                self, "profile_batch",
                "0 (profiling is not available on the torch backend, as in Keras "
                "3; use torch.profiler)", profile_batch,
            )  # fmt: skip
        self.embeddings_freq = check_int(self, "embeddings_freq", embeddings_freq, 0)
        self.embeddings_metadata = embeddings_metadata
        self._writers: dict = {}
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._graph_pending = False
        self._batch_start_time = 0.0

    # ------------------------------------------------------------ writers
    def set_model(self, model):
        super().set_model(model)
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._close_writers()
        self._graph_pending = self.write_graph
        if self.write_graph:
            self._write_model_json()
        if self.embeddings_freq:
            self._configure_embeddings()

    def _writer(self, which: str):
        if which not in self._writers:
            directory = self._train_dir if which == "train" else self._val_dir
            self._writers[which] = self._writer_class(log_dir=directory)
        return self._writers[which]

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def _scalars(self, which, logs, prefix, step, suffix=""):
        writer = self._writer(which)
        for name, value in logs.items():
            if isinstance(value, (int, float, np.number)) or (
                isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim == 0
            ):
                writer.add_scalar(f"{prefix}{name}{suffix}", float(value), step)

    # -------------------------------------------------------------- hooks
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._epoch_start_iterations = 0

    def on_train_end(self, logs=None):
        self._close_writers()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self._graph_pending:
            self._graph_pending = False
            self._write_op_graph()
        step = self._global_train_batch
        if self.update_freq == "epoch" or step % self.update_freq:
            return
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._batch_start_time, 1e-9)
            self._writer("train").add_scalar(
                "batch_steps_per_second", 1 / elapsed, step
            )
        self._scalars("train", logs or {}, "batch_", step)

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and logs:
            step = int(optimizer.iterations)
            self._scalars("validation", logs, "evaluation_", step, "_vs_iterations")
            self._writer("validation").flush()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start_iterations = int(self.model.optimizer.iterations)
            self._epoch_start_time = time.time()

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            path = os.path.join(
                self._train_dir, f"keras_embedding.ckpt-{epoch}.weights.h5"
            )
            self.model.save_weights(path)
        for writer in self._writers.values():
            writer.flush()

    # ------------------------------------------------------------ content
    def _learning_rates(self) -> dict:
        optimizer = getattr(self.model, "optimizer", None)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if optimizer is None:
            return {}
        if hasattr(optimizer, "optimizers"):
            return {
                f"learning_rate_{inner.name}": float(inner.learning_rate)
                for inner in optimizer.optimizers
            }
        return {"learning_rate": float(optimizer.learning_rate)}

    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        train.update(self._learning_rates())
        if self.write_steps_per_second:
            steps = int(self.model.optimizer.iterations) - self._epoch_start_iterations
            train["steps_per_second"] = steps / (time.time() - self._epoch_start_time)
        self._scalars("train", train, "epoch_", epoch)
        if val:
            self._scalars("validation", val, "epoch_", epoch)

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                name = weight.path.replace(":", "_")
                values = weight.detach().float().cpu()
                writer.add_histogram(f"{name}/histogram", values, epoch)
                if self.write_images:
                    image = _weight_image(values)
                    if image is not None:
                        writer.add_images(
                            f"{name}/image", image, epoch, dataformats="NHWC"
                        )

    def _write_model_json(self):
        cls = type(self.model).__name__
        if cls not in ("Functional", "Sequential"):
            return
        try:
            text = self.model.to_json()
        except Exception as error:  # noqa: BLE001 - as Keras: warn, never fail fit
            warnings.warn(
                f"Model failed to serialize as JSON. Ignoring... {error}", stacklevel=3
            )
            return
        writer = self._writer("train")
        writer._get_file_writer().add_summary(_keras_model_summary(text), 0)

    def _write_op_graph(self):
        example = _example_inputs(self.model)
        if example is None:
            warnings.warn(
                "TensorBoard: the model has no known input shapes, so its op graph "
                "is not written (write_graph needs a Functional or Sequential model "
                "with an Input).",
                stacklevel=3,
            )
            return
        try:
            with warnings.catch_warnings(), _frozen_eval(self.model):
                warnings.simplefilter("ignore")  # tracer warnings on Python branches
                self._writer("train").add_graph(_GraphView(self.model), example)
        except Exception as error:  # noqa: BLE001 - a graph is optional output
            warnings.warn(
                "TensorBoard: torch could not trace the model, so its op graph is not "
                f"written ({type(error).__name__}: {error}).",
                stacklevel=3,
            )

    def _configure_embeddings(self):
        metadata = self.embeddings_metadata
        remaining = dict(metadata) if isinstance(metadata, dict) else None
        lines = []
        for layer in self.model.layers:
            if not isinstance(layer, Embedding):
                continue
            lines += ["embeddings {", f'  tensor_name: "{_EMBEDDING_TENSOR}"']
            path = metadata if isinstance(metadata, str) else None
            if remaining is not None and layer.name in remaining:
                path = remaining.pop(layer.name)
            if path is not None:
                lines.append(f"  metadata_path: {json.dumps(str(path))}")
            lines.append("}")
        if remaining:
            raise ValueError(
                f"TensorBoard: `embeddings_metadata` names layers that are not "
                f"Embedding layers of the model: {sorted(remaining)}."
            )
        os.makedirs(self.log_dir, exist_ok=True)
        with open(os.path.join(self.log_dir, "projector_config.pbtxt"), "w") as f:
            f.write("\n".join(lines) + ("\n" if lines else ""))


class _GraphView(torch.nn.Module):
    """The model seen by torch's tracer as one module: its layers are not
    submodules of the view, so the tracer does not walk their attributes, and
    the (frozen) weights enter the graph as constants."""

    def __init__(self, model):
        super().__init__()
        self.__dict__["_model"] = model

    def forward(self, *inputs):
        return self._model(*inputs)


@contextlib.contextmanager
def _frozen_eval(model):
    """``model`` in inference mode with no weight requiring gradients (tracing
    runs it once; batch statistics must not move), restored afterwards."""
    parameters = list(model.parameters())
    flags = [p.requires_grad for p in parameters]
    training = model.training
    model.eval()
    for p in parameters:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(parameters, flags):
            p.requires_grad_(flag)
        model.train(training)


def _weight_image(values):
    """A weight as an NHWC image batch (Keras's layouts), or None."""
    image = values.squeeze()
    if image.ndim == 1:
        image = image.reshape(1, -1, 1, 1)
    elif image.ndim == 2:
        image = image.T if image.shape[0] > image.shape[1] else image
        image = image.reshape(1, *image.shape, 1)
    elif image.ndim == 3:
        image = image.permute(2, 0, 1).unsqueeze(-1)
    return image if image.ndim == 4 and image.shape[-1] in (1, 3, 4) else None


def _example_inputs(model):
    """Zero tensors shaped like the model's inputs (None sizes as 1), or None."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs:
        return None
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    tensors = tuple(
        torch.zeros(
            [1 if d is None else d for d in x.shape], dtype=getattr(torch, str(x.dtype)),
            device=device,
        )
        for x in inputs
    )  # fmt: skip
    return tensors[0] if len(tensors) == 1 else tensors


def _keras_model_summary(text: str):
    """The ``keras`` summary Keras writes: the model JSON as a string tensor for
    TensorBoard's ``graph_keras_model`` plugin."""
    # protos ship with the tensorboard package, imported with the writer
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto

    metadata = SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(
            plugin_name="graph_keras_model", content=b"1"
        )
    )
    tensor = TensorProto(
        dtype=7, string_val=[text.encode()], tensor_shape=TensorShapeProto()
    )  # 7: DT_STRING
    return Summary(value=[Summary.Value(tag="keras", metadata=metadata, tensor=tensor)])
