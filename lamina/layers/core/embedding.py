"""Embedding: integer indices to dense vectors, a row lookup in ``embeddings``.

The lookup is torch's ``F.embedding``: its gradient is a dense tensor, as Keras's
optimizers expect, summed in index order (the same bits as ``index_add_``).
Measured on issue 17's (256, 100) lookup into (10000, 128), forward + backward
(bench/cases_kernels.py, ``issue17_embedding_fwd_bwd``): the hand-written
``index_select``/``index_add_`` (or ``scatter_add_``) autograd function lamina used
before ties with torch's backward on 1 thread (9-13 vs 10-16 ms for the table
gradient) but is 3x slower on 2 threads (96 vs 30 ms; the whole row 110-160 vs
44-53 ms), so torch's own kernel is the one used.
"""

from __future__ import annotations

import torch

from lamina.layers.call_context import call_context
from lamina.layers.core.lora import LoRAMixin
from lamina.layers.core.quantized import QuantizedMixin
from lamina.layers.layer import Layer
from lamina.layers.weight_options import (
    set_weight_options,
    weight_options,
    weight_options_config,
)
from lamina.saving import serialization
from lamina.utils.validation import check_int, describe


def lookup(table, indices):
    """Rows of ``table`` (rows, dim) at integer ``indices``: (*indices.shape, dim)."""
    return torch.nn.functional.embedding(indices, table)


def _transformed() -> bool:
    """Under torch.func transforms (vmap, grad): values cannot steer Python."""
    return torch._C._are_functorch_transforms_active()


class Embedding(QuantizedMixin, LoRAMixin, Layer):
    """Turns non-negative integers (indices) into dense vectors of fixed size.

    Args:
        input_dim: positive int, the vocabulary size (largest index + 1).
        output_dim: positive int, the size of each vector.
        embeddings_initializer: default ``"uniform"`` (within +-0.05).
        embeddings_regularizer, activity_regularizer: optional.
        embeddings_constraint: optional, applied after updates.
        mask_zero: index 0 is padding: the output carries the mask ``inputs !=
            0`` (the vectors of index 0 are not zeroed); ``input_dim`` should then
            count it (vocabulary size + 1).
        weights: optional initial ``embeddings`` (an array or a one-item list).
        lora_rank: if set, ``enable_lora(lora_rank, lora_alpha)`` once built.
        lora_alpha: LoRA scale numerator (default ``lora_rank``).
        quantization_config: a ``keras.quantizers.QuantizationConfig`` (or
            its dict), used once the layer is quantized.
        input_length: Keras 2 argument: ``lamina.layers.legacy`` translates it
            to ``input_shape=(input_length,)`` with a ``DeprecationWarning``.

    Input shape:
        Integer tensor of any shape ``(batch_size, ...)``. Float tensors holding
        whole numbers are accepted (cast), as a functional model's default float
        Input gives them.

    Output shape:
        ``(*input_shape, output_dim)``.

    Weights:
        ``embeddings`` (input_dim, output_dim); with LoRA also
        ``lora_embeddings_a`` (input_dim, rank) and ``lora_embeddings_b`` (rank,
        output_dim), the base ``embeddings`` then frozen. The layer computes
        ``embeddings + (lora_alpha / rank) * a @ b``, looking up only used rows.
        Quantized to int8: ``embeddings`` int8 and ``embeddings_scale``
        ``(input_dim,)`` (one scale per row), both frozen; a row is
        ``embeddings[i] / embeddings_scale[i]``.

    Raises:
        ValueError: a non-positive ``input_dim``/``output_dim``; float indices
            that are not whole numbers; an index outside ``[0, input_dim)`` (named
            with ``input_dim``); ``enable_lora`` before build, twice, or with an
            ``embeddings_constraint``.

    Example:
    >>> import numpy as np
    >>> import lamina as keras
    >>> layer = keras.layers.Embedding(1000, 64)
    >>> x = np.random.randint(1000, size=(32, 10))
    >>> tuple(layer(x).shape)
    (32, 10, 64)
    """

    _promotes_integer_inputs = False  # its inputs are indices
    _lora_base = "embeddings"

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.input_dim = check_int(self, "input_dim", input_dim, minimum=1)
        self.output_dim = check_int(self, "output_dim", output_dim, minimum=1)
        set_weight_options(
            self,
            "embeddings",
            embeddings_initializer,
            embeddings_regularizer,
            embeddings_constraint,
        )
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.autocast = False
        self._init_lora(lora_rank, lora_alpha)
        self._init_quantization(quantization_config)
        if weights is not None:
            self.build()
            if not (isinstance(weights, list) and len(weights) == 1):
                weights = [weights]
            self.set_weights(weights)

    def build(self, input_shape=None):
        if self.built:
            return
        if self.quantization_mode is not None:
            self._quantized_build((self.input_dim, self.output_dim))
        else:
            self.embeddings = self.add_weight(
                shape=(self.input_dim, self.output_dim),
                name="embeddings",
                **weight_options(self, "embeddings"),
            )
        self._build_lora()

    def call(self, inputs):
        indices = self._indices(inputs)
        if self._is_quantized:
            outputs = self._int8_lookup(indices)
        else:
            outputs = lookup(self.embeddings, indices)
        if self.lora_enabled:
            low_rank = lookup(self.lora_embeddings_a, indices) @ self.lora_embeddings_b
            outputs = outputs + self._lora_scale * low_rank
        return outputs.to(self._compute_torch_dtype)

    # ------------------------------------------------------------ int8
    _int8_saved_names = ("embeddings", "embeddings_scale")

    def _int8_build(self, shape, config) -> None:
        self.embeddings = self.add_weight(
            shape=shape,
            initializer=torch.zeros(shape, dtype=torch.int8),
            dtype="int8",
            trainable=False,
            name="embeddings",
        )
        # One scale per row (Keras: input_dim is usually the larger axis).
        self.embeddings_scale = self.add_weight(
            shape=(self.input_dim,),
            initializer="ones",
            trainable=False,
            name="embeddings_scale",
        )

    def _int8_weight_axes(self):
        return -1

    def _int8_scale_for_storage(self, scale):
        return scale.squeeze(-1)

    def _int8_dequantized(self):
        scale = self.embeddings_scale
        return self.embeddings.to(scale.dtype) / scale.unsqueeze(-1)

    def _int8_lookup(self, indices):
        rows = torch.nn.functional.embedding(indices, self.embeddings)
        scale = torch.nn.functional.embedding(indices, self.embeddings_scale[:, None])
        return rows.to(self._compute_torch_dtype) / scale.to(self._compute_torch_dtype)

    def _indices(self, inputs):
        if call_context.symbolic or _transformed():  # no values to check
            return inputs.long()
        if inputs.is_floating_point():
            whole = inputs.long()
            if not torch.equal(whole.to(inputs.dtype), inputs):
                bad = inputs[whole.to(inputs.dtype) != inputs].reshape(-1)[0].item()
                raise ValueError(
                    f"{describe(self)}: expected integer indices, got a "
                    f"{str(inputs.dtype).replace('torch.', '')} input holding "
                    f"{bad!r}, which is not a whole number."
                )
            inputs = whole
        elif inputs.dtype == torch.bool or inputs.is_complex():
            raise ValueError(
                f"{describe(self)}: expected integer indices, got a "
                f"{str(inputs.dtype).replace('torch.', '')} input."
            )
        if inputs.numel():
            low, high = torch.aminmax(inputs)
            if low < 0 or high >= self.input_dim:
                bad = int(low) if low < 0 else int(high)
                raise ValueError(
                    f"{describe(self)}: index {bad} is out of range for "
                    f"input_dim={self.input_dim} (valid indices are 0 to "
                    f"{self.input_dim - 1}); got input shape {tuple(inputs.shape)}."
                )
        return inputs if inputs.dtype == torch.long else inputs.long()

    def compute_mask(self, inputs, previous_mask=None):
        if not self.mask_zero:
            return None
        return inputs != 0

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape), self.output_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            **weight_options_config(self, "embeddings", activity=True),
            "mask_zero": self.mask_zero,
            "quantization_config": serialization.serialize_keras_object(
                self.quantization_config
            ),
            **self._lora_config(),
        }


Embedding._quantizable_class = Embedding
