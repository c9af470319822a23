"""AlphaDropout against Keras 3. Its training output is random, so the cases
compare what is deterministic (identity at inference, shapes and dtypes of a
training call, the seed's reproducibility) and check the law of the draw: each
entry is ``a * x + b`` (kept) or ``a * alpha_p + b`` (dropped), with Keras's
``a`` and ``b``."""

from __future__ import annotations

import numpy as np
import torch

from tests.oracle import Case, ErrorCase
from tests.oracle_inputs import to_numpy

RANDOM = ("inference_identity", "seed", "shapes")
ALPHA_P = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946


def alpha_dropout_law(ours, theirs, feed):
    """Kept entries are ``a * x + b``, dropped ones ``a * alpha_p + b``, about
    ``rate`` of them dropped, the same entries along the noise shape's 1s."""
    rate = ours.rate
    a = ((1 - rate) * (1 + rate * ALPHA_P**2)) ** -0.5
    b = -a * ALPHA_P * rate
    x = feed.first
    with torch.no_grad():
        out = to_numpy(feed.call(ours, training=True))
    kept = np.isclose(out, a * x + b, atol=1e-6)
    dropped = np.isclose(out, a * ALPHA_P + b, atol=1e-6)
    assert (kept | dropped).all()
    assert abs(dropped.mean() - rate) < 0.1
    for axis, size in enumerate(ours.noise_shape or ()):
        if size == 1:
            assert (dropped == dropped.take([0], axis=axis)).all()


CASES = [
    Case("AlphaDropout", {"rate": 0.3}, (4, 6)),
    Case(
        "AlphaDropout",
        {"rate": 0.3, "seed": 1},
        (16, 32),
        call_kwargs={"training": True},
        checks=(*RANDOM, alpha_dropout_law),
        id="AlphaDropout-random",
    ),
    Case(
        "AlphaDropout",
        {"rate": 0.5, "noise_shape": (None, 1, 8), "seed": 2},
        (8, 4, 8),
        call_kwargs={"training": True},
        checks=(*RANDOM, alpha_dropout_law),
        id="AlphaDropout-noise-shape",
    ),
]

ERROR_CASES = [
    ErrorCase(
        "AlphaDropout", {"rate": 1.5}, r"`rate` must be a number in \[0.0, 1.0\]"
    ),
    # Keras accepts rate=1 and divides by zero in the first training call.
    ErrorCase(
        "AlphaDropout",
        {"rate": 1.0},
        r"AlphaDropout '\w+': `rate` must be a number in \[0.0, 1.0\); got rate=1.0",
        keras_raises=False,
    ),
]
