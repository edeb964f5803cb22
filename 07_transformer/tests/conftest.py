import os

# One BLAS thread: on a shared, oversubscribed machine a multi-threaded OpenBLAS spins
# waiting for descheduled threads, and tiny float64 matmuls gain nothing from threads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(0)
