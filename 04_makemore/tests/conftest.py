"""Small generated names so that the unit tests never need the real data set."""

from shared.threads import set_threads

set_threads(1)  # before NumPy loads: tiny matmuls on shared cores

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from makemore.data import CHARS  # noqa: E402


@pytest.fixture
def toy_names():
    """300 pseudo-names from a fixed generator: a few syllables, so there is structure to learn."""
    rng = np.random.default_rng(0)
    syllables = ["an", "na", "el", "li", "ma", "ri", "jo", "ke", "sa", "ly", "em", "ah"]
    return ["".join(rng.choice(syllables, size=rng.integers(1, 5))) for _ in range(300)]


@pytest.fixture
def vocab():
    return CHARS
