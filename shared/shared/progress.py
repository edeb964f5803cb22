"""A one-line training progress report: step, metrics, rate and ETA.

    progress = Progress(total=1000, description="train")
    for step in range(1000):
        ...
        progress.update(step + 1, loss=loss)
    progress.close()

On a terminal the line rewrites itself in place (carriage return); when the output is a
file or a pipe (CI logs) it prints a full line at most every `log_every` seconds instead,
so logs stay readable. It writes to stderr, leaving stdout for results.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "format_duration"]


def format_duration(seconds: float) -> str:
    """'1h02m', '3m05s' or '4.2s'."""
    if seconds >= 3600:
        return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"
    if seconds >= 60:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    return f"{seconds:.1f}s"


class Progress:
    """Progress line for a loop of `total` steps (`total=None` if unknown)."""

    def __init__(
        self,
        total: int | None,
        description: str = "",
        unit: str = "it",
        stream: TextIO | None = None,
        refresh_every: float = 0.2,
        log_every: float = 10.0,
    ):
        self.total = total
        self.description = description
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self.min_interval = refresh_every if self.interactive else log_every
        self.started = time.perf_counter()
        self.last_print = float("-inf")
        self.step = 0
        self.metrics: dict[str, float] = {}
        self._width = 0
        self._printed_step = 0

    def line(self) -> str:
        """The current progress line (also what `update` prints)."""
        elapsed = time.perf_counter() - self.started
        rate = self.step / elapsed if elapsed > 0 else 0.0
        parts = [self.description] if self.description else []
        parts.append(f"{self.step}/{self.total}" if self.total else f"{self.step}")
        parts += [f"{name} {_format(value)}" for name, value in self.metrics.items()]
        parts.append(f"{rate:.1f} {self.unit}/s" if rate < 100 else f"{rate:.0f} {self.unit}/s")
        if self.total and rate > 0:
            parts.append(f"ETA {format_duration(max(self.total - self.step, 0) / rate)}")
        parts.append(f"elapsed {format_duration(elapsed)}")
        return " | ".join(parts)

    def update(self, step: int, **metrics: float) -> None:
        """Record that `step` steps are done, with the latest metric values."""
        self.step = step
        self.metrics.update(metrics)
        now = time.perf_counter()
        finished = self.total is not None and step >= self.total
        if now - self.last_print >= self.min_interval or finished:
            self.last_print = now
            self._print(self.line())

    def write(self, message: str) -> None:
        """Print a permanent message (e.g. an evaluation) without garbling the line."""
        if self.interactive and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self._width = 0
        self.stream.write(message + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the line (prints the final state once)."""
        if self.interactive:
            if self._width:
                self.stream.write("\n")
        elif self.step != self._printed_step:
            self.stream.write(self.line() + "\n")
        self._width = 0
        self.stream.flush()

    def _print(self, text: str) -> None:
        self._printed_step = self.step
        if self.interactive:
            padding = " " * max(self._width - len(text), 0)
            self.stream.write("\r" + text + padding)
            self._width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
