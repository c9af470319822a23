"""``Distribution`` (what every strategy shares) and ``DataParallel``: the same
model in every process, each process training on its share of every global
batch, gradients averaged by ``torch.nn.parallel.DistributedDataParallel``."""

from __future__ import annotations

import contextlib

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler

from lamina.callbacks import (
    BackupAndRestore,
    CSVLogger,
    ModelCheckpoint,
    RemoteMonitor,
    TensorBoard,
)
from lamina.distribution.mesh import DeviceMesh, TensorLayout, list_devices
from lamina.trainers import strategy as strategy_module
from lamina.trainers.data_adapters import TorchLoaderAdapter
from lamina.utils import tree

#: Callbacks that write files or send logs: run by the chief (rank 0) only.
CHIEF_ONLY_CALLBACKS = (
    BackupAndRestore,
    CSVLogger,
    ModelCheckpoint,
    RemoteMonitor,
    TensorBoard,
)


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def world_size() -> int:
    return dist.get_world_size() if dist.is_initialized() else 1


def require_process_group(owner) -> None:
    """Raise a clear error when ``torch.distributed`` was not initialized."""
    if not dist.is_initialized():
        raise RuntimeError(
            f"{owner}: the process group must be initialized first; call "
            "`keras.distribution.initialize()` in every process (start them with "
            "`torchrun --nproc_per_node=N script.py`)."
        )


class Distribution(strategy_module.Strategy):
    """A strategy on a ``DeviceMesh``: the trainer's hooks, plus Keras's
    ``scope()``, ``distribute_dataset`` and layout queries."""

    distributed = True

    def __init__(self, device_mesh, batch_dim_name=None):
        self.device_mesh = device_mesh
        self.batch_dim_name = batch_dim_name

    @property
    def is_chief(self) -> bool:
        return rank() == 0

    @contextlib.contextmanager
    def scope(self):
        """Make this the distribution while the block runs."""
        previous = strategy_module.get_strategy()
        strategy_module.set_strategy(self)
        try:
            yield
        finally:
            strategy_module.set_strategy(previous)

    def distribute_dataset(self, dataset):
        return self.data(dataset)

    def get_data_layout(self, data_shape) -> TensorLayout:
        axes = [self.batch_dim_name] + [None] * (len(data_shape) - 1)
        return TensorLayout(axes, self.device_mesh)

    def get_variable_layout(self, variable) -> TensorLayout:
        return TensorLayout([None] * len(variable.shape), self.device_mesh)

    def get_tensor_layout(self, path):
        return None

    def callbacks(self, callbacks, verbose):
        """Every process runs the callbacks that steer training (with the same,
        reduced logs they decide alike); the chief alone writes files and
        prints progress."""
        if self.is_chief:
            return callbacks, verbose
        kept = [c for c in callbacks or [] if not isinstance(c, CHIEF_ONLY_CALLBACKS)]
        return kept, 0


class DataParallel(Distribution):
    """Data parallelism: every process holds the whole model and trains on its
    part of each global batch (``batch_size`` is the global batch size, as in
    Keras). Gradients are averaged by ``DistributedDataParallel`` (gloo on CPU,
    NCCL on GPU; call ``initialize()`` first, e.g. under ``torchrun``).

    Data: arrays and ``PyDataset``s give each process a contiguous slice of
    every global batch; for ``fit`` and ``evaluate`` a ``DataLoader`` is re-made
    with a ``DistributedSampler`` and ``batch_size // processes`` (which pads
    a dataset that does not divide evenly with repeated samples), for
    ``predict`` its batches are sliced like arrays so the gathered predictions
    keep their order. Metric states are summed over processes
    before an epoch's logs are read (every built-in metric state is a sum), so
    the logs are those of the global batches. ``BatchNormalization(
    synchronized=True)`` normalizes with the global batch's statistics; with
    ``synchronized=False`` each process normalizes its own slice, and the
    moving statistics (every non-trainable float weight) are averaged over
    processes at the end of each epoch (as TensorFlow's mirrored variables
    read them). ``predict`` returns every process the whole result.

    Args:
        device_mesh: a 1-D ``DeviceMesh`` (default: every process).
        devices: the devices, when no mesh is given (default ``list_devices()``).
        auto_shard_dataset: accepted for Keras compatibility (data is always
            sharded as above).
    """

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True):
        if device_mesh is None:
            devices = list_devices() if devices is None else list(devices)
            device_mesh = DeviceMesh((len(devices),), ["batch"], devices)
        super().__init__(device_mesh, device_mesh.axis_names[0])
        self.auto_shard_dataset = auto_shard_dataset

    # -- trainer hooks
    def prepare(self, model) -> None:
        """Wrap the model for ``DistributedDataParallel`` (its weights are
        broadcast from rank 0) and give every process rank 0's random state
        (the same shuffling order everywhere)."""
        require_process_group("DataParallel")
        state = torch.get_rng_state()
        dist.broadcast(state, src=0)
        torch.set_rng_state(state)
        device = next(iter(model.parameters()), torch.empty(0)).device
        model.__dict__["_ddp_module"] = DistributedDataParallel(
            model,
            device_ids=[device] if device.type == "cuda" else None,
        )

    def forward_module(self, model):
        ddp = model.__dict__.get("_ddp_module")
        return ddp if ddp is not None and torch.is_grad_enabled() else model

    def data(self, x):
        if not isinstance(x, DataLoader) or isinstance(x.sampler, DistributedSampler):
            return x
        processes = world_size()
        sampler = DistributedSampler(
            x.dataset,
            num_replicas=processes,
            rank=rank(),
            shuffle=isinstance(x.sampler, RandomSampler),
        )
        return DataLoader(
            x.dataset,
            batch_size=max(1, (x.batch_size or 1) // processes),
            sampler=sampler,
            num_workers=x.num_workers,
            collate_fn=x.collate_fn,
            drop_last=x.drop_last,
        )

    def batches(self, iterator):
        adapter = getattr(iterator, "adapter", None)
        if isinstance(adapter, TorchLoaderAdapter) and isinstance(
            getattr(adapter._loader, "sampler", None), DistributedSampler
        ):
            return iterator  # already this process's share
        return self._shards(iterator)

    def _shards(self, iterator):
        processes, index = world_size(), rank()
        for step, batch in iterator:
            yield step, tree.map_structure(lambda t: _share(t, processes, index), batch)

    def reduce_logs(self, model) -> None:
        require_process_group("DataParallel")
        with torch.no_grad():
            for variable in model.metrics_variables:
                dist.all_reduce(variable.data, op=dist.ReduceOp.SUM)
            processes = world_size()
            for weight in model.non_trainable_weights:
                if weight.is_floating_point():
                    dist.all_reduce(weight.data, op=dist.ReduceOp.SUM)
                    weight.data.div_(processes)

    def gather(self, outputs):
        """Every process's predictions for a global batch, in rank order."""
        require_process_group("DataParallel")
        local = tree.map_structure(lambda t: t.detach().cpu(), outputs)
        parts = [None] * world_size()
        dist.all_gather_object(parts, local)
        flat = [tree.flatten(p) for p in parts]
        device = tree.flatten(outputs)[0].device
        merged = [torch.cat(pieces).to(device) for pieces in zip(*flat)]
        return tree.pack_sequence_as(outputs, merged)


def _share(tensor, processes, index):
    """This process's contiguous part of a global batch (``None`` stays None)."""
    if not isinstance(tensor, torch.Tensor) or tensor.ndim == 0:
        return tensor
    return torch.tensor_split(tensor, processes)[index]
