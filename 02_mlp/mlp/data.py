"""MNIST / Fashion-MNIST as float32 matrices, minibatches, and accuracy.

Each 28x28 uint8 image becomes one row of 784 float32 pixels, scaled to [0, 1] and then
standardised with the training set's pixel mean and standard deviation (one number each,
over all pixels), so the inputs of the first layer have mean ~0 and variance ~1, which is
what the He/Xavier initialisations assume.

What this module does not do: augmentation, a validation split (the README's numbers use
the official test set, as LeCun's table and d2l do), or per-pixel normalisation.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from shared.data import load_mnist
from shared.seeding import make_rng

__all__ = ["CLASS_NAMES", "DATASETS", "PIXEL_STATS", "accuracy", "check_dataset", "load", "minibatches"]

DATASETS = ("mnist", "fashion")

# Mean and standard deviation of all training pixels after scaling to [0, 1]; the test set
# is standardised with the training statistics (tests/test_data.py recomputes them).
PIXEL_STATS = {"mnist": (0.1307, 0.3081), "fashion": (0.2860, 0.3530)}

CLASS_NAMES = {
    "mnist": [str(digit) for digit in range(10)],
    "fashion": ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"],
}


def load(dataset: str, split: str, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(X float32 (N, 784) standardised, y int64 (N,)) for 'mnist' or 'fashion', 'train' or 'test'.

    `limit` keeps only the first `limit` examples (quick runs).
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    images, labels = load_mnist("fashion-mnist" if dataset == "fashion" else "mnist", split)
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit must be a positive number of examples, got {limit}")
        images, labels = images[:limit], labels[:limit]
    return standardize(images, dataset), labels.astype(np.int64)


def standardize(images: np.ndarray, dataset: str) -> np.ndarray:
    """uint8 images (N, 28, 28) -> float32 rows (N, 784), (x / 255 - mean) / std."""
    mean, std = PIXEL_STATS[dataset]
    # (x / 255 - mean) / std, regrouped as x * (1 / (255 std)) - mean / std so that both steps
    # run in place on the one float32 copy (60,000 x 784 floats); tests/test_data.py checks it
    # against the formula (equal to float32 rounding, not bit for bit).
    X = images.reshape(len(images), -1).astype(np.float32)  # (N, 784), one copy
    X *= np.float32(1.0 / (255.0 * std))
    X -= np.float32(mean / std)
    return X


def minibatches(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    rng: np.random.Generator | int | None = None,
    shuffle: bool = True,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (X_batch, y_batch) covering every example once; the last batch may be smaller.

    With `shuffle`, the order is a fresh permutation from `rng` on every call (every epoch),
    so a seeded generator gives the same sequence of epochs run after run.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} examples but y has {len(y)}")
    N = len(X)
    if not shuffle:
        for start in range(0, N, batch_size):
            yield X[start : start + batch_size], y[start : start + batch_size]  # views, no copies
        return
    order = make_rng(rng).permutation(N)
    for start in range(0, N, batch_size):
        index = order[start : start + batch_size]
        yield X[index], y[index]  # (B, D), (B,): gathered copies


def accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows whose largest logit is at the true class."""
    return float(np.mean(logits.argmax(axis=1) == y))


def check_dataset(X: np.ndarray, y: np.ndarray, in_features: int, classes: int, name: str = "data") -> None:
    """Raise ValueError naming what was expected if X, y cannot feed a model of this shape."""
    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.shape[1] != in_features:
        raise ValueError(
            f"{name}: the model expects inputs of shape (N, {in_features}), got {getattr(X, 'shape', type(X).__name__)}"
        )
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"{name}: inputs must be floating point, got {X.dtype}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name}: inputs must be finite numbers, found NaN or infinity")
    if not isinstance(y, np.ndarray) or y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"{name}: labels must have shape ({len(X)},), got {getattr(y, 'shape', type(y).__name__)}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{name}: labels must be integers, got {y.dtype}")
    if len(y) == 0:
        raise ValueError(f"{name}: no examples")
    low, high = int(y.min()), int(y.max())
    if low < 0 or high >= classes:
        raise ValueError(
            f"{name}: labels must be in [0, {classes - 1}] for a {classes}-class model, got values in [{low}, {high}]"
        )
