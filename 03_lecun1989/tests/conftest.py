"""Small generated data and checks shared by the tests: no MNIST needed."""

from __future__ import annotations

import io

import numpy as np
import pytest
from lecun1989.model import LAYOUT

from shared.gradcheck import gradcheck


def make_digits(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A learnable toy set in the prepro format: each class is a bright bar at its own place."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    x = np.full((n, 16, 16), -1.0)
    for i, label in enumerate(labels):
        row = 1 + (label % 5) * 3
        col = 2 if label < 5 else 9
        x[i, row : row + 2, col : col + 5] = 1.0
    x += rng.normal(0, 0.2, x.shape)
    x = np.clip(x, -1, 1).astype(np.float32)
    y = np.full((n, 10), -1.0, np.float32)
    y[np.arange(n), labels] = 1.0
    return {"x": x, "y": y, "label": labels.astype(np.uint8)}


@pytest.fixture
def toy_data() -> dict[str, np.ndarray]:
    """Prepro-shaped arrays: 300 training and 100 test toy digits."""
    data = {}
    for split, n, seed in (("train", 300, 0), ("test", 100, 1)):
        for key, value in make_digits(n, seed).items():
            data[f"{key}_{split}"] = value
    return data


def example(rng, n=1):
    images = rng.uniform(-1, 1, (n, 16, 16))
    labels = rng.integers(0, 10, n)
    targets = -np.ones((n, 10))
    targets[np.arange(n), labels] = 1.0
    return images, targets, labels


def sampled_gradcheck(net, loss, analytic, per_tensor=40, seed=0):
    """Finite differences on up to `per_tensor` random entries of every parameter tensor.

    Each tensor's sampled entries are copied into a small float64 "probe" array that the loss
    writes back into the network before every evaluation, so shared.gradcheck can perturb it.
    """
    rng = np.random.default_rng(seed)
    inputs, expected, offset = {}, {}, 0
    probes = []
    for name, shape in LAYOUT:
        size = int(np.prod(shape))
        chosen = offset + rng.choice(size, min(per_tensor, size), replace=False)
        inputs[name] = net.params[chosen].copy()
        expected[name] = analytic[chosen]
        probes.append((chosen, inputs[name]))
        offset += size

    def probed_loss():
        for chosen, probe in probes:
            net.params[chosen] = probe
        return loss()

    report = gradcheck(probed_loss, inputs, expected, tolerance=1e-6)
    report.assert_ok()
    return report


def npy_header(shape, dtype="<f4") -> bytes:
    """The bytes of a .npy header claiming `shape`, with no data after it (for crafted files)."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()
