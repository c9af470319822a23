"""LoRA (low-rank adaptation) for layers with one base weight: Dense's ``kernel``,
Embedding's ``embeddings``, EinsumDense's N-D ``kernel`` and the convolutions'
``kernel``, with Keras 3's rules.

``enable_lora(rank)`` freezes the base weight W (..., cols) and adds trainable
``a`` (..., rank), he_uniform, and ``b`` (rank, cols), zeros: the layer computes
with ``W + (lora_alpha / rank) * a @ b`` (a matrix product over the last two axes,
so a convolution kernel (*kernel_size, in, filters) gets ``a`` (*kernel_size, in,
rank)), equal to W until training moves ``b``.
Saved weights files hold the merged matrix and no LoRA factors, as Keras writes
them, so files interoperate with Keras 3; loading one into a LoRA layer zeroes
``b`` (Keras zeroes ``a`` too, which stops LoRA from training further).
"""

from __future__ import annotations

import numpy as np
import torch

from lamina import initializers
from lamina.utils.validation import check_int, describe


class LoRAMixin:
    """Adds ``enable_lora`` to a layer whose base weight is ``self.<_lora_base>``
    (regularized by ``self.<_lora_base>_regularizer``, constrained by
    ``self.<_lora_base>_constraint``)."""

    _lora_base = "kernel"

    def _init_lora(self, lora_rank, lora_alpha):
        self.lora_rank = check_int(self, "lora_rank", lora_rank, 1, allow_none=True)
        self.lora_alpha = lora_rank if lora_alpha is None else lora_alpha
        self.lora_enabled = False

    def _build_lora(self):
        """Called at the end of ``build``: LoRA from the constructor's arguments.
        (Keras 3 passes only the rank here, losing ``lora_alpha``; lamina keeps it.)"""
        if self.lora_rank:
            self.built = True
            self.enable_lora(self.lora_rank, self.lora_alpha)

    def enable_lora(
        self, rank, lora_alpha=None, a_initializer="he_uniform", b_initializer="zeros"
    ):
        """Freeze the base matrix and learn a low-rank update ``a @ b`` scaled by
        ``lora_alpha / rank`` (default alpha: ``rank``).

        Raises:
            ValueError: ``rank`` not a positive int; the layer not built, already
                LoRA-enabled, or with a constraint on its base matrix.
        """
        base_name = self._lora_base
        rank = check_int(self, "rank", rank, minimum=1)
        if getattr(self, f"{base_name}_constraint") is not None:
            raise ValueError(
                f"{describe(self)}: LoRA cannot be used with a `{base_name}_constraint`; "
                "remove the constraint to enable LoRA."
            )
        if not self.built:
            raise ValueError(
                f"{describe(self)}: enable_lora() needs the layer built; call it on "
                "data or `build()` it first."
            )
        if self.lora_enabled:
            raise ValueError(
                f"{describe(self)}: LoRA is already enabled (rank {self.lora_rank}); "
                "enable_lora() can be called once per layer."
            )
        base = getattr(self, base_name)
        regularizer = getattr(self, f"{base_name}_regularizer")
        factors = {"a": (*base.shape[:-1], rank), "b": (rank, base.shape[-1])}
        for (part, shape), init in zip(factors.items(), (a_initializer, b_initializer)):
            name = f"lora_{base_name}_{part}"
            weight = self.add_weight(
                shape=shape,
                initializer=initializers.get(init),
                regularizer=regularizer,
                name=name,
            )
            setattr(self, name, weight)
        base.trainable = False
        self.lora_enabled = True
        self.lora_rank = rank
        self.lora_alpha = rank if lora_alpha is None else lora_alpha

    def _lora_factors(self):
        return (
            getattr(self, f"lora_{self._lora_base}_a"),
            getattr(self, f"lora_{self._lora_base}_b"),
        )

    @property
    def _lora_scale(self) -> float:
        """``lora_alpha / lora_rank``; 0 without LoRA (torch.jit reads every
        property of a module it traces)."""
        return self.lora_alpha / self.lora_rank if self.lora_rank else 0.0

    def _lora_config(self) -> dict:
        if not self.lora_rank:
            return {}
        return {"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha}

    # -------------------------------------------------- weights files (Keras's)
    # Keras's hooks, present only while LoRA is enabled (the saving code takes a
    # layer's hooks when they are callable): a layer without LoRA is saved and
    # loaded like any other, with the loader's own checks and layout hints.
    @property
    def save_own_variables(self):
        return self._save_merged if self.lora_enabled else None

    @property
    def load_own_variables(self):
        return self._load_merged if self.lora_enabled else None

    def _saved_weights(self):
        factors = self._lora_factors()
        return [w for w in self._own_weights() if all(w is not f for f in factors)]

    def _save_merged(self, store):
        base = getattr(self, self._lora_base)
        for i, weight in enumerate(self._saved_weights()):
            value = weight.detach()
            if weight is base:
                a, b = self._lora_factors()
                value = value + self._lora_scale * (a.detach() @ b.detach())
            store[str(i)] = value

    def _load_merged(self, store):
        targets = self._saved_weights()
        if len(store) != len(targets):
            names = ", ".join(f"{w.name} {tuple(w.shape)}" for w in targets)
            raise ValueError(
                f"{describe(self)} saves {len(targets)} weight(s) [{names}] but the "
                f"file holds {len(store)}."
            )
        values = [np.asarray(store[str(i)]) for i in range(len(targets))]
        for weight, value in zip(targets, values):
            if tuple(value.shape) != tuple(weight.shape):
                raise ValueError(
                    f"{describe(self)}: weight '{weight.name}' has shape "
                    f"{tuple(weight.shape)} but {tuple(value.shape)} in the file."
                )
        with torch.no_grad():
            for weight, value in zip(targets, values):
                weight.copy_(torch.as_tensor(value).to(weight.device, weight.dtype))
            # The file's base weight has the update merged. Keras zeroes both
            # factors, which leaves LoRA nothing to train (both gradients
            # vanish); zeroing b alone gives the same output.
            self._lora_factors()[1].zero_()
