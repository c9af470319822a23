"""``BaseLocallyConnected(rank)``: a convolution whose weights are not shared, each
output position has its own filter bank (tf.keras 2's LocallyConnected1D/2D,
which Keras 3 dropped, plus 3D).

``implementation`` picks, once in ``build``, the strategy object that computes the
layer (``strategies.py``) and the kernel layout the layer stores (tf.keras's, so
weights load both ways; see ``connectivity.py``). ``convert_weights`` moves a
trained layer's weights to another implementation.
"""

from __future__ import annotations

import numpy as np

from lamina import activations
from lamina.layers.locally_connected.connectivity import Geometry
from lamina.layers.locally_connected.strategies import (
    CANDIDATES,
    STRATEGIES,
    choose,
)
from lamina.layers.spatial import SpatialLayer
from lamina.layers.weight_options import (
    set_weight_options,
    weight_options,
    weight_options_config,
)
from lamina.ops import shapes
from lamina.utils.validation import (
    arg_error,
    check_choice,
    check_int,
    normalize_tuple,
    shape_error,
)

IMPLEMENTATIONS = (1, 2, 3, "auto")


def stored_layout(implementation) -> int:
    """The kernel layout a layer of ``implementation`` stores: ``auto`` keeps
    layout 1 whatever it computes with, so its weights never depend on the choice."""
    return 1 if implementation == "auto" else implementation


class BaseLocallyConnected(SpatialLayer):
    """Base of LocallyConnected1D/2D/3D (see their docstrings). ``**kwargs`` go on
    to ``SpatialLayer`` (``data_format``) and ``Layer``."""

    def __init__(
        self,
        *,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        implementation=1,
        **kwargs,
    ):
        super().__init__(rank=rank, **kwargs)
        self.filters = check_int(self, "filters", filters, minimum=1)
        self.kernel_size = normalize_tuple(self, "kernel_size", kernel_size, rank)
        self.strides = normalize_tuple(self, "strides", strides, rank)
        self.padding = check_choice(self, "padding", padding, ("valid", "same"))
        self.implementation = self._check_implementation(implementation)
        if self.padding == "same" and self.implementation == 1:
            raise arg_error(
                self,
                "padding",
                '"valid" when implementation=1 (as in tf.keras; implementations '
                '2, 3 and "auto" also take "same")',
                padding,
            )
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        set_weight_options(
            self, "kernel", kernel_initializer, kernel_regularizer, kernel_constraint
        )
        set_weight_options(
            self, "bias", bias_initializer, bias_regularizer, bias_constraint
        )
        self.geometry = None

    def _check_implementation(self, value):
        if isinstance(value, str) and value.lower() == "auto":
            return "auto"
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            if int(value) in IMPLEMENTATIONS:
                return int(value)
        raise arg_error(self, "implementation", '1, 2, 3 or "auto"', value)

    # ------------------------------------------------------------ build
    def build(self, input_shape):
        geometry = self._geometry(tuple(input_shape))
        layout = stored_layout(self.implementation)
        self.kernel = self.add_weight(
            shape=geometry.kernel_shape(layout),
            name="kernel",
            **weight_options(self, "kernel"),
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=geometry.bias_shape,
                name="bias",
                **weight_options(self, "bias"),
            )
        compute = choose(geometry, layout, CANDIDATES[self.implementation])
        self._strategy = STRATEGIES[compute](geometry, layout).to(self.kernel.device)
        self.geometry = geometry
        axes = dict(zip(self._spatial_axes, geometry.in_sizes))
        axes[self._channel_axis] = geometry.channels
        self.input_spec = self._input_spec(axes)

    def _geometry(self, input_shape) -> Geometry:
        """The connectivity for ``input_shape``, which must be fully known (the
        weights depend on every spatial size) and large enough for the kernel."""
        if len(input_shape) != self.rank + 2:
            raise shape_error(
                self, f"input of rank {self.rank + 2} {self._layout()}", input_shape
            )
        channels, spatial = input_shape[self._channel_axis], self._spatial(input_shape)
        if channels is None or None in spatial:
            raise shape_error(
                self,
                f"input with known channel and spatial sizes {self._layout()} (each "
                "output position has its own weights)",
                input_shape,
            )
        output_shape = self.compute_output_shape(input_shape)
        if any(n <= 0 for n in self._spatial(output_shape)):
            raise shape_error(
                self,
                f"an input at least as large as kernel_size={self.kernel_size} on "
                f"every spatial axis (the output shape would be {output_shape})",
                input_shape,
            )
        return Geometry(
            spatial,
            self.kernel_size,
            self.strides,
            self.padding,
            channels,
            self.filters,
            not self._channels_last,
        )

    # ------------------------------------------------------------ call
    def call(self, inputs):
        outputs = self._strategy(inputs, self.kernel, self.bias)
        return activations.apply(self.activation, outputs)

    def compute_output_shape(self, input_shape):
        output_shape = list(
            self._map_spatial(
                input_shape, self._output_length, self.kernel_size, self.strides
            )
        )
        output_shape[self._channel_axis] = self.filters
        return tuple(output_shape)

    def _output_length(self, n, kernel_size, stride):
        return shapes.conv_output_length(n, kernel_size, self.padding, stride)

    # ------------------------------------------------------------ conversion
    def with_implementation(self, implementation) -> BaseLocallyConnected:
        """A new, built layer computing the same function with ``implementation``
        (weights converted by ``convert_weights``; a fresh name)."""
        layer_config = {**self.get_config(), "implementation": implementation}
        layer_config.pop("name")
        layer = type(self).from_config(layer_config)
        layer.build(self._build_shapes)
        layer.set_weights(convert_weights(self, implementation))
        return layer

    def extra_repr(self) -> str:
        strategy = type(self._strategy).__name__ if self.built else None
        return (
            f"name={self.name!r}, filters={self.filters}, "
            f"kernel_size={self.kernel_size}, implementation={self.implementation!r}"
            + (f", strategy={strategy}" if strategy else "")
        )

    # ------------------------------------------------------------ config
    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_options_config(self, "kernel", "bias", activity=True),
            "implementation": self.implementation,
        }


def convert_weights(layer: BaseLocallyConnected, implementation) -> list[np.ndarray]:
    """``layer``'s weights in the layout of ``implementation`` (1, 2, 3, "auto"):
    load them into the same layer built with that implementation and it computes
    the same function. Entries of the dense layout that connect nothing are
    dropped (2 -> 1, 3) or zero (-> 2).

    Example:
    >>> import lamina as keras
    >>> from lamina.layers.locally_connected import convert_weights
    >>> layer = keras.layers.LocallyConnected1D(4, 3, implementation=1)
    >>> x = keras.ops.ones((2, 10, 5))
    >>> y = layer(x)
    >>> sparse = keras.layers.LocallyConnected1D(4, 3, implementation=3)
    >>> sparse.build(x.shape)
    >>> sparse.set_weights(convert_weights(layer, 3))
    >>> bool(keras.ops.all(keras.ops.abs(sparse(x) - y) < 1e-5))
    True
    """
    if not layer.built:
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': convert_weights needs the layer "
            "built (its kernel layout depends on the input shape)."
        )
    target = stored_layout(layer._check_implementation(implementation))
    source = stored_layout(layer.implementation)
    geometry, kernel = layer.geometry, layer.kernel.detach()
    index = geometry.index(source, target, device=kernel.device)
    kernel = geometry.convert(kernel, source, target, index)
    weights = [kernel] if layer.bias is None else [kernel, layer.bias.detach()]
    return [w.cpu().numpy().copy() for w in weights]  # never views of the layer


# ----------------------------------------------------------------- docs
# LocallyConnected's own paragraphs, besides the shared ones of
# ``lamina.layers.docs`` (``fill_docs(ARGS)`` fills both in).
ARGS = {
    "padding": """padding: ``"valid"`` (no padding) or ``"same"`` (output length
    ``ceil(n / strides)``; implementations 2, 3 and ``"auto"`` only, as in
    tf.keras). tf.keras's ``same`` is not the convolution's: window ``q`` reads
    cells ``q * s - k // 2`` to ``q * s - k // 2 + k - 1`` (cells outside the
    input connect nothing), which differs from ``Conv`` for even kernels or
    strides > 1; we follow tf.keras so its weights give its outputs.""",
    "use_bias": """use_bias: whether to add a ``bias`` per output position and
    filter (default True).""",
    "implementation": """implementation: the kernel layout (tf.keras's, see
    Weights) and how the layer computes; all give the same outputs (default 1,
    as in tf.keras). ``1``: gather the patches, one batched matmul over
    positions; memory-light, the best choice for most layers. ``2``: a dense
    kernel between the whole input and output, masked to the windows
    (``input_size / window_size`` times the weights): one masked dense matmul
    for small layers; where that would mostly multiply zeros, the batched matmul
    of 1 over the kernel's live blocks (tf.keras's sparse-aware matmul skips
    the zeros too). ``3``: only the live weights, one sparse (CSR) matmul;
    fastest when channels and filters are few and positions many. ``"auto"``
    (lamina's addition): stores implementation 1's layout (so its weights never
    depend on the choice) and computes with whichever of the three a cost model
    of the shapes predicts fastest, chosen once in ``build``; it takes
    ``padding="same"`` too (the kernel then keeps entries for cells outside the
    input, which stay unused). ``convert_weights`` / ``with_implementation``
    switch a trained layer.""",
    "length": """per spatial axis ``ceil((n - kernel_size + 1) / strides)`` for
``"valid"``, ``ceil(n / strides)`` for ``"same"``.""",
    "weights": """``kernel`` in tf.keras's layout of the implementation, then
``bias`` ``(*out_spatial, filters)`` if ``use_bias`` (with channels_first
tf.keras adds this buffer reshaped, not transposed, to
``(filters, *out_spatial)``; so do we). With ``P`` output positions and ``T``
kernel taps (both row-major), ``C`` input channels:
``1`` and ``"auto"``: ``(P, T * C, filters)``, each position's patch
flattened as ``(*kernel_size, C)`` for channels_last and ``(C, *kernel_size)``
for channels_first.
``2``: ``(*in_spatial, C, *out_spatial, filters)`` for channels_last,
``(C, *in_spatial, filters, *out_spatial)`` for channels_first; entries
between a cell and a position whose window misses it are ignored.
``3``: ``(nnz,)``, the weights of the connected (output, input) pairs in the
order of tf.keras's sorted indices over the flattened output and input (the
values of the CSR matrix that maps inputs to outputs).""",
    "raises": """ValueError: at construction, ``filters``, a size or a stride < 1,
    a tuple of the wrong length, an unknown ``padding``, ``data_format`` or
    ``implementation``, or ``padding="same"`` with ``implementation=1``; at
    build, an input of the wrong rank, with unknown channel or spatial sizes,
    or smaller than the kernel; at call, spatial sizes other than the built
    ones.""",
}
