"""Side-by-side benchmarks: lamina vs Keras 3 (torch backend) vs plain PyTorch."""

import os

# Keras reads its backend once, at import; the cases import it after this line.
os.environ.setdefault("KERAS_BACKEND", "torch")
