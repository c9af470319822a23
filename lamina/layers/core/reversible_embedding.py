"""ReversibleEmbedding: an Embedding that also projects back to the vocabulary
(the tied output layer of language models)."""

from __future__ import annotations

import torch

from lamina import dtype_policies as policies
from lamina.layers.core.embedding import Embedding
from lamina.ops import dtypes
from lamina.utils.validation import arg_error


class ReversibleEmbedding(Embedding):
    """An Embedding that, called with ``reverse=True``, projects vectors of size
    ``output_dim`` back to ``input_dim`` logits.

    By default the reverse projection is the transposed ``embeddings`` (tied
    weights); ``tie_weights=False`` gives it a trainable matrix of its own.

    Args:
        input_dim: positive int, the vocabulary size.
        output_dim: positive int, the size of each vector.
        tie_weights: whether the reverse projection uses ``embeddings``
            transposed (default True).
        embeddings_initializer: default ``"uniform"`` (also for
            ``reverse_embeddings``).
        embeddings_regularizer, embeddings_constraint: optional.
        mask_zero: index 0 is padding: the forward output carries the mask
            ``inputs != 0``.
        reverse_dtype: dtype of the reverse projection (default: the compute
            dtype): inputs and weights are cast to it (``"float32"`` logits from a
            ``"bfloat16"`` layer). As in Keras, a float64 product comes back as
            float32 (Keras's dtype rules narrow 64-bit results).
        logit_soft_cap: if set, reverse logits become ``tanh(logits / cap) *
            cap``.
        **kwargs: ``Embedding``'s other arguments (``lora_rank``, ``name``, ...).

    Call arguments:
        inputs: integer indices, or with ``reverse=True`` vectors
            ``(..., output_dim)``.
        reverse: project back to ``input_dim`` (default False: look up).

    Input shape / Output shape:
        ``(...)`` -> ``(..., output_dim)``; reversed ``(..., output_dim)`` ->
        ``(..., input_dim)``.

    Weights:
        ``embeddings`` (input_dim, output_dim); with ``tie_weights=False`` also
        ``reverse_embeddings`` (output_dim, input_dim).

    Raises:
        ValueError: as ``Embedding``; a ``logit_soft_cap`` that is not a positive
            number; ``reverse_dtype`` not a dtype name.

    Example:
    >>> import numpy as np
    >>> import lamina as keras
    >>> layer = keras.layers.ReversibleEmbedding(100, 8)
    >>> hidden = layer(np.random.randint(100, size=(2, 5)))
    >>> tuple(layer(hidden, reverse=True).shape)
    (2, 5, 100)
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        tie_weights=True,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        reverse_dtype=None,
        logit_soft_cap=None,
        **kwargs,
    ):
        super().__init__(
            input_dim,
            output_dim,
            embeddings_initializer=embeddings_initializer,
            embeddings_regularizer=embeddings_regularizer,
            embeddings_constraint=embeddings_constraint,
            mask_zero=mask_zero,
            **kwargs,
        )
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = reverse_dtype
        self._reverse_torch_dtype = None
        if reverse_dtype is not None:
            try:
                self._reverse_torch_dtype = policies.to_torch_dtype(reverse_dtype)
            except (TypeError, ValueError, KeyError):
                raise arg_error(
                    self, "reverse_dtype", "None or a dtype name", reverse_dtype
                ) from None
        if logit_soft_cap is not None and (
            isinstance(logit_soft_cap, bool)
            or not isinstance(logit_soft_cap, (int, float))
            or logit_soft_cap <= 0
        ):
            raise arg_error(
                self, "logit_soft_cap", "None or a positive number", logit_soft_cap
            )
        self.logit_soft_cap = logit_soft_cap

    def build(self, input_shape=None):
        if self.built:
            return
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                shape=(self.output_dim, self.input_dim),
                initializer=self.embeddings_initializer,
                name="reverse_embeddings",
            )

    def call(self, inputs, reverse=False):
        if not reverse:
            outputs = super().call(inputs)
            if self.mask_zero:
                outputs._keras_mask = inputs != 0
            return outputs
        if self.tie_weights:
            kernel = self.embeddings
            if self.lora_enabled:
                a, b = self._lora_factors()
                kernel = kernel + self._lora_scale * (a @ b)
            kernel = kernel.T
        else:
            kernel = self.reverse_embeddings
        dtype = self._reverse_torch_dtype or self._compute_torch_dtype
        logits = torch.matmul(inputs.to(dtype), kernel.to(dtype))
        # Keras's ops.matmul returns its dtype rules' result: float64 products
        # come back as float32 (as in JAX), on every backend.
        logits = logits.to(dtypes.to_torch_dtype(dtypes.result_type(logits.dtype)))
        if self.logit_soft_cap is not None:
            cap = self.logit_soft_cap
            logits = torch.tanh(logits / cap) * cap
        return logits

    def compute_mask(self, inputs, previous_mask=None):
        return None  # the forward call attaches its mask itself

    def compute_output_shape(self, input_shape, reverse=False):
        if reverse:
            return (*tuple(input_shape)[:-1], self.input_dim)
        return (*tuple(input_shape), self.output_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "tie_weights": self.tie_weights,
            "reverse_dtype": self.reverse_dtype,
            "logit_soft_cap": self.logit_soft_cap,
        }
