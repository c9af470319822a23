"""Seeded randomness for layers (Dropout, noise): a ``seed`` gives reproducible draws,
``None`` uses torch's global generator."""

from __future__ import annotations

import torch


class SeedGenerator:
    """One ``torch.Generator`` per device, created lazily from ``seed``."""

    def __init__(self, seed: int | None = None):
        self.seed = seed
        self._generators: dict[torch.device, torch.Generator] = {}

    def generator(self, device: torch.device) -> torch.Generator | None:
        if self.seed is None:
            return None
        generator = self._generators.get(device)
        if generator is None:
            generator = torch.Generator(device=device)
            generator.manual_seed(int(self.seed))
            self._generators[device] = generator
        return generator

    def uniform(self, shape, like: torch.Tensor) -> torch.Tensor:
        return torch.rand(
            shape,
            generator=self.generator(like.device),
            dtype=like.dtype,
            device=like.device,
        )

    def normal(self, shape, like: torch.Tensor, mean=0.0, stddev=1.0) -> torch.Tensor:
        noise = torch.randn(
            shape,
            generator=self.generator(like.device),
            dtype=like.dtype,
            device=like.device,
        )
        return noise * stddev + mean
