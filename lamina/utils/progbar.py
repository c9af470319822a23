"""Keras's training progress display, drawn with rich.

``verbose=1``: one line per epoch with a bar, ``step/total``, the ETA (the elapsed
time once finished), the time per step and the running metrics. On a terminal (or
in Jupyter) rich redraws the line in place at most ``1 / interval`` times per
second; when the output is a file or a pipe nothing is redrawn and the finished
line is printed once per epoch, so logs stay readable. ``verbose=2``: only the
finished line, without the bar.

With ``keras.config.disable_interactive_logging()`` the finished lines go to
Python's ``logging`` (logger ``"lamina"``, level INFO) instead, and nothing is
redrawn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from rich.console import Console
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from lamina import config

logger = logging.getLogger("lamina")


def print_msg(message: str) -> None:
    """A message to standard output, or to ``logging`` (logger ``"lamina"``) when
    ``keras.config.disable_interactive_logging()`` is in effect."""
    if config.is_interactive_logging_enabled():
        Console(highlight=False).print(Text(message), soft_wrap=True)
    else:
        logger.info(message)


def format_value(value) -> str:
    value = float(value)
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds > 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if seconds > 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds}s"


def format_time_per_unit(seconds: float, unit: str) -> str:
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


class Progbar:
    """A progress line for ``target`` steps (``None``: unknown).

    Args:
        target: the number of steps, or None.
        width: width of the bar in characters.
        verbose: 1 (bar) or 2 (one finished line).
        interval: minimum seconds between redraws on a terminal.
        unit_name: what a step is called (``step``).
        console: a rich ``Console`` (default: standard output).
    """

    def __init__(
        self, target, width=20, verbose=1, interval=0.1, unit_name="step", console=None
    ):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.console = console or Console(highlight=False)
        self._interactive = config.is_interactive_logging_enabled()
        self._dynamic = self._interactive and (
            self.console.is_terminal or self.console.is_jupyter
        )
        self._values: dict = {}
        self._latest = None
        self._start = time.time()
        self._after_first_step = None
        self._last_draw = 0.0
        self._live: Live | None = None

    def update(self, current, values=None, finalize=None):
        """Record step ``current`` with ``values`` (a dict or ``(name, value)``
        pairs; tensors are read only when drawn) and redraw if it is time."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if values is not None:
            self._latest = values  # read (and sorted) only when drawn
        now = time.time()
        if current == 1 and self._after_first_step is None:
            self._after_first_step = now
        if self.verbose == 2:
            if finalize:
                self._emit(self._summary(current, now))
            return
        if finalize:
            self._finish(current, now)
        elif self._dynamic and now - self._last_draw >= self.interval:
            self._draw(current, now)

    def _time_per_unit(self, current, now) -> float:
        if self._after_first_step is not None and current > 1:
            return (now - self._after_first_step) / (current - 1)
        return (now - self._start) / current if current else 0.0

    def _count(self, current) -> str:
        if self.target is None:
            return f"{current:7d}/Unknown"
        digits = len(str(self.target))
        return f"{current:{digits}d}/{self.target}"

    def _metrics(self) -> str:
        if self._latest is not None:
            latest = self._latest
            items = latest.items() if isinstance(latest, Mapping) else latest
            self._values.update(sorted(items))
            self._latest = None
        return "".join(f" - {k}: {format_value(v)}" for k, v in self._values.items())

    def _info(self, current, now, finalize) -> str:
        per_unit = self._time_per_unit(current, now)
        if self.target is not None and not finalize:
            clock = format_duration(per_unit * (self.target - current))
        else:
            clock = f"{now - self._start:.0f}s"
        return (
            f"{clock} {format_time_per_unit(per_unit, self.unit_name)}{self._metrics()}"
        )

    def _renderable(self, current, now, finalize):
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column()
        total = self.target if self.target else max(current, 1)
        bar = ProgressBar(total=total, completed=min(current, total), width=self.width)
        grid.add_row(self._count(current), bar, self._info(current, now, finalize))
        return grid

    def _draw(self, current, now):
        renderable = self._renderable(current, now, False)
        if self._live is None:
            self._live = Live(
                renderable, console=self.console, auto_refresh=False, transient=True
            )
            self._live.start()
        else:
            self._live.update(renderable, refresh=True)
        self._last_draw = now

    def _finish(self, current, now):
        if self._live is not None:
            self._live.stop()
            self._live = None
        if self._dynamic:
            self.console.print(self._renderable(current, now, True))
        else:
            bar = "━" * self.width
            self._emit(f"{self._count(current)} {bar} {self._info(current, now, True)}")

    def _emit(self, line: str):
        """A finished line: to the console, or to ``logging`` when interactive
        logging is off."""
        if self._interactive:
            self.console.print(Text(line), soft_wrap=True)
        else:
            logger.info(line)

    def _summary(self, current, now) -> str:
        per_unit = format_time_per_unit(
            self._time_per_unit(current, now), self.unit_name
        )
        return f"{self._count(current)} - {now - self._start:.0f}s - {per_unit}{self._metrics()}"

    def close(self):
        """Stop a live display left running (an interrupted epoch)."""
        if self._live is not None:
            self._live.stop()
            self._live = None
