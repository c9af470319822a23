"""``Variable``: a ``torch.nn.Parameter`` that also speaks Keras's variable API."""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch.distributed.tensor import DTensor, distribute_tensor


class Variable(torch.nn.Parameter):
    """A layer weight. It *is* a ``torch.nn.Parameter`` (optimizers, ``state_dict``,
    ``.to()`` all see it), and adds Keras's ``name``, ``path``, ``trainable``,
    ``numpy()``, ``assign()`` and ``value``.

    ``trainable`` is the Keras flag; ``requires_grad`` follows it, and is also off
    while the owning layer is frozen (``layer.trainable = False``).
    """

    def __new__(cls, data=None, requires_grad=True):
        return super().__new__(cls, data, requires_grad)

    @property
    def name(self) -> str:
        return self.__dict__.get("_keras_name", "variable")

    @name.setter
    def name(self, value: str) -> None:
        self.__dict__["_keras_name"] = value

    @property
    def path(self) -> str:
        return self.__dict__.get("_keras_path", self.name)

    @path.setter
    def path(self, value: str) -> None:
        self.__dict__["_keras_path"] = value

    @property
    def trainable(self) -> bool:
        return self.__dict__.get("_keras_trainable", True)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self.__dict__["_keras_trainable"] = bool(value)
        self.requires_grad_(bool(value))

    @property
    def value(self) -> torch.Tensor:
        """The variable itself, as on Keras's torch backend, so the custom
        ``train_step`` idiom ``v.value.grad`` works."""
        return self

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """A NumPy copy (never a view that later training would change).
        ``force`` is ``torch.Tensor.numpy``'s (tools such as the ONNX exporter
        pass it); a copy from any device is always made."""
        return self.detach().cpu().numpy().copy()

    def assign(self, value) -> Variable:
        value = torch.as_tensor(value, dtype=self.dtype, device=self.device)
        if tuple(value.shape) != tuple(self.shape):
            raise ValueError(
                f"Variable '{self.path}': cannot assign a value of shape "
                f"{tuple(value.shape)} to a variable of shape {tuple(self.shape)}."
            )
        with torch.no_grad():
            self.copy_(value)
        return self

    def assign_add(self, value) -> Variable:
        with torch.no_grad():
            self.add_(torch.as_tensor(value, dtype=self.dtype, device=self.device))
        return self

    def assign_sub(self, value) -> Variable:
        with torch.no_grad():
            self.sub_(torch.as_tensor(value, dtype=self.dtype, device=self.device))
        return self

    def lay_out(self, order) -> Variable:
        """Keep the values and the shape; store axis ``order[0]`` outermost and
        ``order[-1]`` innermost in memory (a permutation of the axes). Kernels
        use it to store the layout their torch op reads without copying (see
        ``ops.convolution.kernel_memory_order``). Assignments, optimizer updates,
        gradients and copies keep the layout; NumPy copies are C-ordered."""
        order = tuple(order)
        if self.ndim < 2 or type(self.data) is not torch.Tensor:
            return self
        inverse = tuple(order.index(axis) for axis in range(self.ndim))
        with torch.no_grad():
            self.data = self.data.permute(order).contiguous().permute(inverse)
        return self

    def __deepcopy__(self, memo):
        result = type(self)(
            self.data.clone(memory_format=torch.preserve_format), self.requires_grad
        )
        memo[id(self)] = result
        result.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return result

    def __repr__(self) -> str:
        return (
            f"<Variable path={self.path}, shape={tuple(self.shape)}, "
            f"dtype={str(self.dtype).replace('torch.', '')}>"
        )


class ShardedVariable(DTensor):
    """A weight split over processes (a ``torch.distributed.tensor`` ``DTensor``,
    made by ``ModelParallel``) that keeps ``Variable``'s Keras API; ``numpy()``
    gathers the whole value (every process must call it)."""

    name = Variable.name
    path = Variable.path
    trainable = Variable.trainable
    value = Variable.value

    def numpy(self, *, force: bool = False) -> np.ndarray:
        return self.full_tensor().detach().cpu().numpy().copy()

    def assign(self, value) -> ShardedVariable:
        whole = torch.as_tensor(value, dtype=self.dtype)
        local = distribute_tensor(whole, self.device_mesh, self.placements)
        with torch.no_grad():
            self.to_local().copy_(local.to_local())
        return self


def sharded_variable(value: DTensor, requires_grad: bool = True) -> ShardedVariable:
    """``value`` (a ``DTensor``) as a ``ShardedVariable`` parameter."""
    variable = torch.nn.Parameter(value, requires_grad=requires_grad)
    variable.__class__ = ShardedVariable
    return variable
