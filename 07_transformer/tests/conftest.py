import numpy as np
import pytest

from shared.threads import set_threads

# One BLAS thread: on a shared, oversubscribed machine a multi-threaded OpenBLAS spins
# waiting for descheduled threads, and tiny float64 matmuls gain nothing from threads.
set_threads(1)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def small_copy_evaluation(monkeypatch):
    """The copy task's commands score 16 held-out sequences instead of 200 in tests (an
    untrained model decodes every one to its length limit)."""
    monkeypatch.setattr("transformer.train.COPY_HELD_OUT", 16)
