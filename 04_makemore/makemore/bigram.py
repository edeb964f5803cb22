"""The bigram language model, twice (lecture 2): by counting, and as a one-layer neural net.

Counting: N[i, j] = how often character j follows character i; P = (N + k) normalized per
row (add-k smoothing keeps unseen bigrams from having probability 0, i.e. infinite loss).
Quality is the mean negative log-likelihood of the data, -mean(log P[x, y]).

Neural net: a 27x27 weight matrix W; logits = onehot(x) @ W = W[x] (log-counts),
softmax gives probabilities, and gradient descent on NLL + reg * mean(W^2) recovers
the counting solution (the L2 term plays the role of smoothing).

Both models read (x, y) pairs built by `data.build_dataset(names, block_size=1)`.
"""

from __future__ import annotations

import numpy as np

from .data import VOCAB_SIZE
from .layers import cross_entropy, make_rng

__all__ = ["BigramNet", "bigram_counts", "bigram_nll", "bigram_probabilities", "sample_bigram"]


def bigram_counts(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The 27x27 count matrix N (int64) from pairs x -> y, with one bincount."""
    # exercise: bigram_counts: N[i, j] = how often character j follows i, as a 27x27 int table (README 1.)
    return np.bincount(x * VOCAB_SIZE + y, minlength=VOCAB_SIZE * VOCAB_SIZE).reshape(VOCAB_SIZE, VOCAB_SIZE)
    # end exercise


def bigram_probabilities(counts: np.ndarray, smoothing: float = 1.0) -> np.ndarray:
    """Rows of (N + k) normalized to sum to 1 (float64)."""
    if smoothing < 0:
        raise ValueError(f"smoothing must be >= 0, got {smoothing}")
    P = counts.astype(np.float64) + smoothing
    sums = P.sum(axis=1, keepdims=True)
    if (sums == 0).any():
        raise ValueError("a row of the count matrix is all zero; use smoothing > 0")
    return P / sums


def bigram_nll(P: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood of the pairs under P (inf if some pair has probability 0)."""
    with np.errstate(divide="ignore"):
        return float(-np.log(P[x, y]).mean())


def sample_bigram(P: np.ndarray, count: int, rng=None, max_length: int = 30) -> list[str]:
    """Names drawn from the bigram model, starting from '.' and stopping at '.'."""
    from .data import decode

    rng = make_rng(rng)
    cumulative = np.cumsum(P, axis=1)
    out = np.zeros((count, max_length), np.int64)
    current = np.zeros(count, np.int64)
    for t in range(max_length):
        u = rng.random(count)[:, None]
        current = np.minimum((cumulative[current] < u).sum(axis=1), VOCAB_SIZE - 1)
        out[:, t] = current
    return [decode(row) for row in out]


def _sum_rows_by_index(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """out[i] = sum of values[n] over n with index[n] == i, for i in 0..26 (a segmented sum)."""
    if len(index) > 1 and (np.diff(index) >= 0).all():  # sorted (fit sorts once): contiguous runs
        present = np.flatnonzero(np.bincount(index, minlength=VOCAB_SIZE))  # rows that occur
        starts = np.searchsorted(index, present)  # strictly increasing: each run ends where the next starts
        sums = np.zeros((VOCAB_SIZE, values.shape[1]), values.dtype)
        sums[present] = np.add.reduceat(values, starts, axis=0)
        return sums
    return np.eye(VOCAB_SIZE, dtype=values.dtype)[index].T @ values


class BigramNet:
    """logits = W[x]: a 27x27 linear layer on one-hot inputs, trained with full-batch gradient descent."""

    def __init__(self, rng=None, dtype=np.float64):
        self.W = make_rng(rng).standard_normal((VOCAB_SIZE, VOCAB_SIZE)).astype(dtype)
        self.dW = np.zeros_like(self.W)

    def loss(self, x: np.ndarray, y: np.ndarray, reg: float = 0.01) -> float:
        """NLL + reg * mean(W^2); fills self.dW."""
        logits = self.W[x]  # (N, 27): onehot(x) @ W, as a row lookup
        nll, dlogits = cross_entropy(logits, y)
        # d/dW of onehot(x) @ W = onehot(x)^T @ dlogits: row x[n] of W receives dlogits[n]
        self.dW[...] = _sum_rows_by_index(dlogits, x)
        self.dW += (2 * reg / self.W.size) * self.W
        return nll + reg * float((self.W**2).mean())

    def nll(self, x: np.ndarray, y: np.ndarray) -> float:
        """Plain mean NLL (no regularization)."""
        return cross_entropy(self.W[x], y)[0]

    def probabilities(self) -> np.ndarray:
        e = np.exp(self.W - self.W.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def fit(self, x, y, steps: int = 200, lr: float = 50.0, reg: float = 0.01, progress=None) -> list[float]:
        """Full-batch gradient descent (lecture 2 uses lr 50); returns the loss per step."""
        if not (steps >= 1 and lr > 0 and reg >= 0 and np.isfinite(lr) and np.isfinite(reg)):  # refuses NaN too
            raise ValueError(f"need steps >= 1, lr > 0, reg >= 0; got {steps}, {lr}, {reg}")
        order = np.argsort(x, kind="stable")  # the loss does not depend on the order of the examples,
        x, y = x[order], y[order]  # and sorted inputs make the gradient a segmented sum
        losses = []
        for step in range(steps):
            losses.append(self.loss(x, y, reg))
            if not np.isfinite(losses[-1]):
                raise ValueError(f"training diverged: the loss became {losses[-1]} at step {step}; lower the lr")
            self.W -= lr * self.dW
            if progress is not None:
                progress.update(step + 1, loss=losses[-1])
        return losses
