"""Small real datasets shipped inside lamina (no download needed)."""

from lamina.datasets import digits

__all__ = ["digits"]
