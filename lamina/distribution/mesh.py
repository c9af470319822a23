"""Processes, devices and layouts: ``initialize``, ``list_devices``,
``DeviceMesh``, ``TensorLayout``, ``LayoutMap`` and ``distribute_tensor``.

On torch, one process drives one device, so a mesh is a grid of processes
(``torch.distributed.device_mesh.DeviceMesh``) and a device string
``"cpu:3"``/``"cuda:3"`` names the process of rank 3.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import MutableMapping

import numpy as np
import torch
import torch.distributed as dist
from torch.distributed.device_mesh import DeviceMesh as TorchDeviceMesh
from torch.distributed.tensor import Replicate, Shard
from torch.distributed.tensor import distribute_tensor as torch_distribute_tensor

from lamina import config
from lamina.utils.validation import arg_error

#: Seconds any collective waits before it fails (a process that died must not
#: leave the others hanging).
DEFAULT_TIMEOUT = 120.0


def _device_type(device_type=None) -> str:
    if device_type is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    device_type = str(device_type).lower()
    if device_type == "gpu":
        device_type = "cuda"
    if device_type not in ("cpu", "cuda"):
        rule = 'one of "cpu", "gpu", "cuda" or None'
        raise arg_error("list_devices", "device_type", rule, device_type)
    return device_type


def list_devices(device_type=None) -> list[str]:
    """The devices of the job, one per process once ``initialize`` ran
    (``["cpu:0", "cpu:1"]``), else this process's devices.

    Args:
        device_type: ``"cpu"``, ``"gpu"``/``"cuda"`` or None (CUDA when present).
    """
    kind = _device_type(device_type)
    if dist.is_initialized():
        count = dist.get_world_size()
    elif kind == "cuda":
        count = torch.cuda.device_count()
    else:
        count = 1
    return [f"{kind}:{i}" for i in range(count)]


def get_device_count(device_type=None) -> int:
    """How many devices ``list_devices(device_type)`` names."""
    return len(list_devices(device_type))


def initialize(job_addresses=None, num_processes=None, process_id=None, timeout=None):
    """Join the job's process group (``torch.distributed``): gloo on CPU, NCCL
    on CUDA.

    Arguments left None come from ``torchrun``'s environment: ``RANK``,
    ``WORLD_SIZE``, ``MASTER_ADDR``/``MASTER_PORT`` (``LOCAL_RANK`` picks this
    process's GPU).

    Args:
        job_addresses: ``"host:port"`` of the coordinator (the first of a
            comma-separated list is used), or None for ``MASTER_ADDR``/``MASTER_PORT``.
        num_processes: the number of processes (``WORLD_SIZE``).
        process_id: this process's rank (``RANK``).
        timeout: seconds any collective may wait (default ``DEFAULT_TIMEOUT``).
    """
    if dist.is_initialized():
        return
    if job_addresses:
        host, _, port = str(job_addresses).split(",")[0].strip().rpartition(":")
        os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = host, port
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29500")
    world_size = int(num_processes or os.environ.get("WORLD_SIZE", 1))
    rank = int(process_id if process_id is not None else os.environ.get("RANK", 0))
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        local_rank = int(os.environ.get("LOCAL_RANK", rank % torch.cuda.device_count()))
        torch.cuda.set_device(local_rank)
        config.set_device(f"cuda:{local_rank}")
    dist.init_process_group(
        backend,
        rank=rank,
        world_size=world_size,
        timeout=datetime.timedelta(seconds=timeout or DEFAULT_TIMEOUT),
    )


class DeviceMesh:
    """A grid of devices (processes) with named axes.

    Args:
        shape: the grid's shape; its product is the number of devices.
        axis_names: one name per axis (``("batch", "model")``).
        devices: the devices (``list_devices()`` by default), in grid order.

    Example:
    >>> mesh = DeviceMesh((1,), ["batch"], devices=["cpu:0"])
    >>> mesh.shape, mesh.axis_names
    ((1,), ['batch'])
    """

    def __init__(self, shape, axis_names, devices=None):
        shape = tuple(int(d) for d in shape)
        axis_names = list(axis_names)
        if len(shape) != len(axis_names):
            rule = f"one name per axis of shape={shape}"
            raise arg_error("DeviceMesh", "axis_names", rule, axis_names)
        devices = list_devices() if devices is None else list(devices)
        if int(np.prod(shape)) != len(devices):
            rule = f"as many devices as shape={shape} holds ({int(np.prod(shape))})"
            raise arg_error("DeviceMesh", "devices", rule, devices)
        self.shape, self.axis_names, self.devices = shape, axis_names, devices
        self._torch_mesh = None

    @property
    def torch_mesh(self) -> TorchDeviceMesh:
        """The ``torch.distributed`` mesh (the process group must be initialized)."""
        if self._torch_mesh is None:
            kind = str(self.devices[0]).split(":")[0]
            ranks = [int(str(d).rsplit(":", 1)[-1]) for d in self.devices]
            grid = torch.tensor(ranks).reshape(self.shape)
            self._torch_mesh = TorchDeviceMesh(
                kind, grid, mesh_dim_names=tuple(self.axis_names)
            )
        return self._torch_mesh

    def __repr__(self):
        return f"<DeviceMesh shape={self.shape}, axis_names={self.axis_names}>"


class TensorLayout:
    """How a tensor is split over a ``DeviceMesh``: for each tensor axis, the
    mesh axis it is sharded over, or None (replicated).

    Args:
        axes: one entry per tensor axis: a mesh axis name or None.
        device_mesh: the mesh (set later by ``LayoutMap`` when None).
    """

    def __init__(self, axes, device_mesh=None):
        self.axes = tuple(axes)
        self.device_mesh = device_mesh

    def placements(self) -> list:
        """``torch.distributed.tensor`` placements, one per mesh axis."""
        mesh = self.device_mesh
        placements = []
        for name in mesh.axis_names:
            dims = [i for i, axis in enumerate(self.axes) if axis == name]
            placements.append(Shard(dims[0]) if dims else Replicate())
        return placements

    def __repr__(self):
        return f"<TensorLayout axes={self.axes}>"


class LayoutMap(MutableMapping):
    """Weight paths (regular expressions, searched in ``variable.path``) to
    ``TensorLayout``s.

    Args:
        device_mesh: the mesh every layout in the map uses.

    Raises:
        ValueError: on lookup, when several keys match a path.
    """

    def __init__(self, device_mesh):
        self.device_mesh = device_mesh
        self._layouts = {}

    def __getitem__(self, key):
        if key in self._layouts:
            return self._layouts[key]
        matches = [k for k in self._layouts if re.search(k, key)]
        if len(matches) > 1:
            raise ValueError(
                f"LayoutMap: a weight path must match at most one key; got "
                f"path={key!r} matching {matches}."
            )
        return self._layouts[matches[0]] if matches else None

    def __setitem__(self, key, layout):
        if key in self._layouts:
            raise ValueError(
                f"LayoutMap: each key must be set once; got key={key!r} again."
            )
        if isinstance(layout, (tuple, list)):
            layout = TensorLayout(layout)
        if not isinstance(layout, TensorLayout):
            rule = "a TensorLayout or a tuple of mesh axis names"
            raise arg_error("LayoutMap", key, rule, layout)
        layout.device_mesh = layout.device_mesh or self.device_mesh
        self._layouts[key] = layout

    def __delitem__(self, key):
        del self._layouts[key]

    def __iter__(self):
        return iter(self._layouts)

    def __len__(self):
        return len(self._layouts)


def distribute_tensor(tensor, layout):
    """``tensor`` split over ``layout``'s mesh (a ``torch.distributed.tensor``
    ``DTensor``); every process passes the same full value."""
    if not isinstance(layout, TensorLayout):
        rule = "a TensorLayout"
        raise arg_error("distribute_tensor", "layout", rule, layout)
    tensor = torch.as_tensor(tensor)
    mesh = layout.device_mesh.torch_mesh
    return torch_distribute_tensor(tensor, mesh, layout.placements())
