"""State shared by nested layer calls."""

from __future__ import annotations


class CallContext:
    """State shared by nested calls: the resolved ``training`` flag (None outside any
    call), whether we are inferring shapes (no losses then), and whether any layer
    has ever added a loss (so loss bookkeeping costs nothing until it is used)."""

    training: bool | None = None
    symbolic: bool = False
    losses_used: bool = False


call_context = CallContext()
