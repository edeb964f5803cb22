"""shared.stopping: a signal becomes a flag, and the old handlers come back."""

from __future__ import annotations

import os
import signal

from shared.stopping import StopRequest


def test_sigterm_sets_the_flag_instead_of_stopping_and_handlers_are_restored():
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    with StopRequest() as stop:
        assert not stop.requested
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested
    assert {sig: signal.getsignal(sig) for sig in before} == before


def test_outside_the_main_thread_the_request_is_inert():
    import threading

    made = []
    thread = threading.Thread(target=lambda: made.append(StopRequest()))
    thread.start()
    thread.join()
    assert made[0].requested is False and made[0]._previous == {}
