"""``Muon``: momentum orthogonalized by Newton-Schulz for matrices, AdamW for the
rest (Keras's variant, with the Moonlight RMS scaling)."""

from __future__ import annotations

import math
import re

import torch

from lamina.optimizers.optimizer import Optimizer
from lamina.utils.validation import check_float, check_int


class Muon(Optimizer):
    """Muon for 2-D weights, AdamW for every other weight.

    A weight takes the AdamW step (at ``learning_rate * adam_lr_ratio``, decay
    ``adam_weight_decay``) when it is not 2-D, when ``exclude_embeddings`` and
    its path contains ``"embedding"``, or when its path matches one of the
    ``exclude_layers`` regular expressions. Every other weight takes the Muon
    step (decay ``weight_decay``)::

        m = momentum * m + g
        d = g + momentum * m if nesterov else m
        w -= lr * NS(d) * sqrt(max(rows, cols)) * rms_rate

    where ``NS`` runs ``ns_steps`` quintic Newton-Schulz iterations
    ``x = a*x + (b*A + c*A@A) @ x`` with ``A = x @ x.T`` on ``d / (||d|| + 1e-7)``
    (transposed when taller than wide): an approximate orthogonalization. Muon
    weights of the same shape are orthogonalized together in one batched matmul.

    Args:
        learning_rate: float or schedule (default 0.001).
        adam_beta_1, adam_beta_2: AdamW's moment decay rates.
        adam_weight_decay: decoupled weight decay of the AdamW weights.
        epsilon: AdamW's epsilon (added to ``sqrt(v)``).
        weight_decay: decoupled weight decay of the Muon weights (default 0.004).
        exclude_layers: regular expressions; weights whose path matches one take
            the AdamW step.
        exclude_embeddings: embeddings take the AdamW step (default ``True``).
        muon_a, muon_b, muon_c: the Newton-Schulz coefficients.
        adam_lr_ratio: AdamW's learning rate relative to ``learning_rate``.
        momentum: Muon's momentum (default 0.95).
        ns_steps: the number of Newton-Schulz iterations (default 5).
        nesterov: use Nesterov momentum (default ``True``).
        rms_rate: the Moonlight scale (Liu et al., 2025) that lets Muon share
            AdamW's learning rate and decay; ``None`` turns it off.
        **kwargs: the common arguments of ``Optimizer``.

    State, weight by weight: ``momentum``, then ``velocity`` for AdamW weights.

    Example:
    >>> import torch, lamina as keras
    >>> w = torch.nn.Parameter(torch.zeros(2, 2))
    >>> keras.optimizers.Muon(0.1, rms_rate=None).apply([torch.eye(2)], [w])
    >>> w.diagonal().abs().gt(0.05).tolist()
    [True, True]
    """

    def __init__(
        self,
        learning_rate=0.001,
        adam_beta_1=0.9,
        adam_beta_2=0.999,
        adam_weight_decay=0.004,
        epsilon=1e-7,
        weight_decay=0.004,
        name=None,
        exclude_layers=None,
        exclude_embeddings=True,
        muon_a=3.4445,
        muon_b=-4.7750,
        muon_c=2.0315,
        adam_lr_ratio=1,
        momentum=0.95,
        ns_steps=5,
        nesterov=True,
        rms_rate=0.2,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, name=name, **kwargs
        )
        self.adam_beta_1 = check_float(
            self, "adam_beta_1", adam_beta_1, 0.0, 1.0, False
        )
        self.adam_beta_2 = check_float(
            self, "adam_beta_2", adam_beta_2, 0.0, 1.0, False
        )
        self.epsilon = check_float(self, "epsilon", epsilon, 0.0)
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = check_float(self, "momentum", momentum, 0.0, 1.0)
        self.ns_steps = check_int(self, "ns_steps", ns_steps, 0)
        self.nesterov = bool(nesterov)
        self.exclude_embeddings = bool(exclude_embeddings)
        self.exclude_layers = list(exclude_layers or [])
        if adam_weight_decay is not None:
            check_float(self, "adam_weight_decay", adam_weight_decay, 0.0)
        self.adam_weight_decay = adam_weight_decay
        if rms_rate is not None:
            check_float(self, "rms_rate", rms_rate, 0.0)
        self.rms_rate = rms_rate

    def _should_use_adamw(self, variable) -> bool:
        if variable.ndim != 2:
            return True
        path = str(getattr(variable, "path", None) or getattr(variable, "name", ""))
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def _weight_decay_for(self, variable):
        if not self._use_weight_decay(variable):
            return None
        if self._should_use_adamw(variable):
            return self.adam_weight_decay
        return self.weight_decay

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._use_adamw = [self._should_use_adamw(v) for v in variables]
        self._momentums, self._velocities = [], []
        for variable, adamw in zip(variables, self._use_adamw):
            self._momentums.append(
                self.add_variable_from_reference(variable, "momentum")
            )
            velocity = None
            if adamw:
                velocity = self.add_variable_from_reference(variable, "velocity")
            self._velocities.append(velocity)

    def _update(self, params, grads, lr, indices):
        adam, muon = [], []
        for param, grad, i in zip(params, grads, indices):
            (adam if self._use_adamw[i] else muon).append((param, grad, i))
        if adam:
            self._adamw_update(*zip(*adam), lr * self.adam_lr_ratio)
        if muon:
            self._muon_update(*zip(*muon), lr)

    def _adamw_update(self, params, grads, indices, lr):
        step = self._local_step() + 1
        momentums = [self._momentums[i] for i in indices]
        velocities = [self._velocities[i] for i in indices]
        alpha = (
            lr * math.sqrt(1 - self.adam_beta_2**step) / (1 - self.adam_beta_1**step)
        )
        torch._foreach_lerp_(momentums, list(grads), 1 - self.adam_beta_1)
        torch._foreach_lerp_(
            velocities, torch._foreach_mul(grads, grads), 1 - self.adam_beta_2
        )
        denominators = torch._foreach_sqrt(velocities)
        torch._foreach_add_(denominators, self.epsilon)
        torch._foreach_addcdiv_(list(params), momentums, denominators, value=-alpha)

    def _muon_update(self, params, grads, indices, lr):
        momentums = [self._momentums[i] for i in indices]
        torch._foreach_mul_(momentums, self.momentum)
        torch._foreach_add_(momentums, list(grads))
        if self.nesterov:
            directions = torch._foreach_add(list(grads), momentums, alpha=self.momentum)
        else:
            directions = momentums
        by_shape: dict[tuple, list[int]] = {}
        for k, direction in enumerate(directions):
            by_shape.setdefault((direction.shape, direction.dtype), []).append(k)
        for (shape, _), members in by_shape.items():
            stacked = torch.stack([directions[k] for k in members])
            orthogonal = self._newton_schulz(stacked)
            scale = lr
            if self.rms_rate is not None:
                scale *= math.sqrt(max(shape)) * self.rms_rate
            for k, update in zip(members, orthogonal.unbind()):
                params[k].sub_(update, alpha=scale)

    def _newton_schulz(self, x):
        """``ns_steps`` quintic Newton-Schulz iterations on a batch of matrices."""
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = x.mT
        x = x / (torch.linalg.matrix_norm(x, keepdim=True) + 1e-7)
        for _ in range(self.ns_steps):
            gram = x @ x.mT
            x = a * x + (b * gram + c * gram @ gram) @ x
        return x.mT if tall else x

    def get_config(self):
        return {
            **super().get_config(),
            "adam_beta_1": self.adam_beta_1,
            "adam_beta_2": self.adam_beta_2,
            "epsilon": self.epsilon,
            "exclude_layers": self.exclude_layers,
            "muon_a": self.muon_a,
            "muon_b": self.muon_b,
            "muon_c": self.muon_c,
            "adam_lr_ratio": self.adam_lr_ratio,
            "momentum": self.momentum,
            "ns_steps": self.ns_steps,
            "nesterov": self.nesterov,
            "exclude_embeddings": self.exclude_embeddings,
            "adam_weight_decay": self.adam_weight_decay,
            "rms_rate": self.rms_rate,
        }
