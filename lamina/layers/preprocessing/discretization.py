"""Discretization: continuous values to bucket indices (or their encodings)."""

from __future__ import annotations

import numpy as np
import torch

from lamina.layers.docs import fill_docs
from lamina.layers.preprocessing import encoding
from lamina.layers.preprocessing.base import (
    SPARSE_NOTE,
    PreprocessingLayer,
    batches,
    check_sparse,
    empty_adapt_error,
    to_numpy,
)
from lamina.utils.validation import arg_error, check_choice, check_float, describe


@fill_docs({"sparse": f"sparse: {SPARSE_NOTE}"})
class Discretization(PreprocessingLayer):
    """Buckets continuous values by ``bin_boundaries`` (given or adapted).

    A value ``x`` goes to bucket ``i`` where ``boundaries[i-1] <= x <
    boundaries[i]`` (bucket 0 below the first boundary, the last bucket from the
    last one up), as ``numpy.digitize``.

    Args:
        bin_boundaries: sorted list of floats; ``n`` boundaries make ``n + 1``
            buckets. Exclusive with ``num_bins``.
        num_bins: the number of buckets ``adapt()`` finds quantile boundaries for.
        epsilon: the error tolerance of the adapted quantiles (default 0.01;
            smaller is more exact and uses more memory).
        output_mode: ``"int"`` (the bucket index, int32), ``"one_hot"``,
            ``"multi_hot"`` or ``"count"`` (float32 vectors of the bucket count).
        {sparse}
        {kwargs}

    Input shape:
        Any shape; values are read as float32.

    Output shape:
        ``"int"``: the input shape. ``"one_hot"``: ``(*input_shape, depth)``, a
        trailing axis of size 1 replaced. ``"multi_hot"``/``"count"``: axis 1
        reduced: ``(batch, *input_shape[2:], depth)``.

    Weights:
        None (boundaries live in the config; the adapt summary is internal).

    Raises:
        ValueError: both or neither of ``bin_boundaries``/``num_bins``; a
            negative ``num_bins``; an unknown ``output_mode``; ``sparse`` with
            ``"int"``; ``adapt`` with ``bin_boundaries``; a call before boundaries
            exist.

    Example:
    >>> import numpy as np
    >>> import lamina as keras
    >>> layer = keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
    >>> layer(np.array([[-1.5, 1.0, 3.4, 0.5]])).tolist()
    [[0, 2, 3, 1]]
    """

    def __init__(
        self,
        bin_boundaries=None,
        num_bins=None,
        epsilon=0.01,
        output_mode="int",
        sparse=False,
        dtype=None,
        name=None,
    ):
        super().__init__(name=name, dtype=dtype)
        self.output_mode = check_choice(
            self, "output_mode", output_mode, encoding.MODES
        )
        self.sparse = check_sparse(self, sparse, self.output_mode)
        if num_bins is not None and (
            isinstance(num_bins, bool) or not isinstance(num_bins, int) or num_bins < 0
        ):
            raise arg_error(self, "num_bins", "an integer >= 0", num_bins)
        if num_bins is not None and bin_boundaries is not None:
            raise arg_error(
                self, "num_bins", "left out when `bin_boundaries` is given", num_bins
            )
        if num_bins is None and bin_boundaries is None:
            raise arg_error(
                self, "bin_boundaries", "given (or `num_bins`, to adapt)", None
            )
        self.epsilon = check_float(self, "epsilon", epsilon, 0.0, 1.0)
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.summary = None if bin_boundaries else np.array([[], []], "float32")

    @property
    def output_dtype(self) -> str:
        return "int32" if self.output_mode == "int" else self.compute_dtype

    # ---------------------------------------------------------------- adapt
    def adapt(self, data, steps=None):
        """Learn ``num_bins`` quantile boundaries from ``data`` (an array, a
        tensor, or an iterable of batches such as a ``DataLoader``)."""
        if self.num_bins is None:
            raise ValueError(
                f"{describe(self)}: adapt() needs `num_bins`; this layer was given "
                "`bin_boundaries`."
            )
        self.reset_state()
        seen = False
        for batch in batches(self, data, steps, lists_are_batches=True):
            self.update_state(batch)
            seen = True
        if not seen:
            raise empty_adapt_error(self)
        self.finalize_state()

    def update_state(self, data):
        summary = summarize(to_numpy(data).astype("float32"), self.epsilon)
        self.summary = merge_summaries(summary, self.summary, self.epsilon)

    def finalize_state(self):
        if self.num_bins is not None:
            self.bin_boundaries = get_bin_boundaries(
                self.summary, self.num_bins
            ).tolist()

    def reset_state(self):
        if self.num_bins is not None:
            self.summary = np.array([[], []], "float32")

    # ----------------------------------------------------------------- call
    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(
                f"{describe(self)}: no `bin_boundaries` yet; pass them at "
                "construction or call `adapt(data)` first."
            )
        if not isinstance(inputs, torch.Tensor):
            inputs = torch.as_tensor(to_numpy(inputs))
        inputs = inputs.to(torch.float32)
        boundaries = torch.as_tensor(
            self.bin_boundaries, dtype=torch.float32, device=inputs.device
        )
        indices = torch.bucketize(inputs.contiguous(), boundaries, right=True)
        return encoding.encode(
            indices,
            self.output_mode,
            len(self.bin_boundaries) + 1,
            _torch_dtype(self.output_dtype),
        )

    def compute_output_shape(self, input_shape):
        depth = (
            len(self.bin_boundaries) + 1
            if self.bin_boundaries is not None
            else self.num_bins
        )
        return encoding.encoded_shape(input_shape, self.output_mode, depth)

    def load_own_variables(self, store):
        if len(store) == 1:
            self.summary = store["0"]

    def save_own_variables(self, store):
        """Keras writes no variables for this layer (it has no weights)."""

    def get_config(self):
        return {
            "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype,
        }

    @classmethod
    def from_config(cls, config_dict):
        config_dict = dict(config_dict)
        config_dict.pop("trainable", None)
        boundaries = config_dict.get("bin_boundaries")
        if boundaries is not None and config_dict.get("num_bins") is not None:
            config_dict.pop("bin_boundaries")  # adapted: restored after creation
            layer = cls(**config_dict)
            layer.bin_boundaries = boundaries
            return layer
        return cls(**config_dict)


def _torch_dtype(name: str) -> torch.dtype:
    return getattr(torch, name)


# ---------------------------------------------------------------- quantiles
# Keras's approximate quantiles: a summary is two rows, values and weights.
def summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    """About ``1 / epsilon`` evenly spaced order statistics of ``values``, each
    weighted by the number of values it stands for."""
    values = np.sort(np.reshape(values, [-1]))
    step = max(values.size / (1.0 / epsilon), 1)
    boundaries = values[int(step - 1) :: int(step)]
    return np.stack([boundaries, np.ones_like(boundaries) * step])


def merge_summaries(first: np.ndarray, second: np.ndarray, epsilon: float):
    merged = np.concatenate((first, second), axis=1)
    merged = np.take(merged, np.argsort(merged[0]), axis=1)
    return compress_summary(merged, epsilon)


def get_bin_boundaries(summary: np.ndarray, num_bins: int) -> np.ndarray:
    return compress_summary(summary, 1.0 / num_bins)[0, :-1]


def compress_summary(summary: np.ndarray, epsilon: float) -> np.ndarray:
    """Interpolate the summary at ``1 / epsilon`` evenly spaced cumulative
    weights (no change when it is already that small)."""
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_weight_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_weight_percents, summary[0])
    cum_weights = np.interp(percents, cum_weight_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype("float32")
