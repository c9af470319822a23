"""``ModelParallel``: weights split over processes by a ``LayoutMap``, as
``torch.distributed.tensor`` ``DTensor``s; torch's sharding propagation does the
communication of every op."""

from __future__ import annotations

from torch.distributed.tensor import DTensor
from torch.distributed.tensor.experimental import implicit_replication

from lamina.distribution.data_parallel import Distribution
from lamina.distribution.mesh import TensorLayout, distribute_tensor
from lamina.utils import tree
from lamina.utils.validation import arg_error
from lamina.variables import sharded_variable


def shard_variable(variable, layout):
    """A ``ShardedVariable`` with ``variable``'s value and Keras attributes."""
    sharded = sharded_variable(
        distribute_tensor(variable.detach(), layout), variable.requires_grad
    )
    sharded.__dict__.update(
        {k: v for k, v in variable.__dict__.items() if k.startswith("_keras")}
    )
    sharded.__dict__.update(
        regularizer=variable.__dict__.get("regularizer"),
        constraint=variable.__dict__.get("constraint"),
    )
    return sharded


class ModelParallel(Distribution):
    """Model parallelism: the weights whose path matches a key of ``layout_map``
    are split over the mesh (``DTensor``s); the others are replicated. Every
    process feeds the whole batch; a step's result equals the unsharded step.

    Args:
        layout_map: a ``LayoutMap`` (its mesh is the distribution's).
        batch_dim_name: the mesh axis of the batch (data stays whole in every
            process: only weights are split).
        device_mesh: the mesh, when given apart from ``layout_map``.
    """

    def __init__(self, *, layout_map=None, batch_dim_name=None, **kwargs):
        device_mesh = kwargs.pop("device_mesh", None)
        if kwargs:
            raise arg_error("ModelParallel", "kwargs", "empty", kwargs)
        if layout_map is None:
            raise arg_error("ModelParallel", "layout_map", "a LayoutMap", None)
        device_mesh = device_mesh or layout_map.device_mesh
        super().__init__(device_mesh, batch_dim_name or device_mesh.axis_names[0])
        self._layout_map = layout_map

    def get_variable_layout(self, variable) -> TensorLayout:
        found = self._layout_map[variable.path]
        return found or super().get_variable_layout(variable)

    def get_tensor_layout(self, path):
        return self._layout_map[path]

    def prepare(self, model) -> None:
        """Replace each weight the layout map names by its sharded copy, in
        every layer that holds it."""
        replaced = {}
        for variable in model.weights:
            layout = self._layout_map[variable.path]
            if layout is not None and not isinstance(variable, DTensor):
                replaced[id(variable)] = shard_variable(variable, layout)
        if replaced:
            for layer in model.modules():
                _swap_weights(layer, replaced)

    def step_context(self):
        return implicit_replication()

    def forward_module(self, model):
        def forward(x, training=False):
            return tree.map_structure(_whole, model(x, training=training))

        return forward

    def gather(self, outputs):
        return tree.map_structure(_whole, outputs)


def _whole(tensor):
    return tensor.full_tensor() if isinstance(tensor, DTensor) else tensor


def _swap_weights(layer, replaced) -> None:
    for key, param in list(layer._parameters.items()):
        if param is not None and id(param) in replaced:
            layer._parameters[key] = replaced[id(param)]
    for name in ("_trainable_params", "_non_trainable_params"):
        weights = layer.__dict__.get(name)
        if weights:
            weights[:] = [replaced.get(id(w), w) for w in weights]
    pairs = layer.__dict__.get("_weight_regularizers")
    if pairs:
        pairs[:] = [(replaced.get(id(w), w), r) for w, r in pairs]
