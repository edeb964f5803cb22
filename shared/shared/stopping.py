"""Stopping a long loop cleanly: Ctrl-C (SIGINT) and `kill` (SIGTERM) become a flag the loop checks.

A training loop that is killed mid-step loses the work since its last checkpoint. With a
`StopRequest` in force, the signal only sets `requested`; the loop finishes the step it is in,
saves a checkpoint, and stops (the projects then raise their own KeyboardInterrupt subclass, which
`shared.cli` turns into exit status 130). The previous handlers come back on `restore()` or on
leaving the `with` block.

Signals can be handled only in the main thread; elsewhere (a test running the loop in a worker)
the request is inert and the signals keep their usual meaning.
"""

from __future__ import annotations

import signal
import threading

__all__ = ["StopRequest"]


class StopRequest:
    """SIGINT/SIGTERM set `requested` instead of interrupting; `restore()` puts the old handlers back."""

    def __init__(self):
        self.requested = False
        self._previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)

    def _handle(self, signum, frame):
        self.requested = True

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def __enter__(self) -> StopRequest:
        return self

    def __exit__(self, *exc) -> None:
        self.restore()
