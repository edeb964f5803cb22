"""Softmax cross-entropy on logits, with its fused, hand-derived backward.

For logits z (N, C) and integer targets t (N,), the loss is the mean negative
log-likelihood of the softmax probabilities p = softmax(z):

    L = (1/N) sum_n [ logsumexp(z_n) - z_{n, t_n} ]

and its gradient is the famous (see README):

    dL/dz = (p - onehot(t)) / N

Softmax and the loss are fused on purpose: computed separately, softmax underflows to 0
for very negative logits and log(0) = -inf; the log-sum-exp form subtracts the row
maximum first, so logits of 1e4 are fine.

What this module does not do: label smoothing, class weights, or reductions other than
the mean.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CrossEntropyLoss", "log_softmax", "softmax"]


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, stable: z - max - log(sum(exp(z - max)))."""
    # exercise: log_softmax: z - logsumexp(z), stable (max subtracted first); README "The backward passes, derived"
    shifted = z - z.max(axis=-1, keepdims=True)  # (N, C), each row's max is 0
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    # end exercise


def softmax(z: np.ndarray) -> np.ndarray:
    """softmax over the last axis, stable (the row maximum is subtracted first)."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class CrossEntropyLoss:
    """Mean softmax cross-entropy: `forward(logits, targets) -> float`, `backward() -> dlogits`."""

    def __init__(self):
        self._probs: np.ndarray | None = None
        self._targets: np.ndarray | None = None

    def forward(self, logits: np.ndarray, targets: np.ndarray) -> float:
        logits, targets = self._check(logits, targets)
        # exercise: cross_entropy_forward: mean logsumexp(z) - z_t; keep p and t; README "The backward passes, derived"
        N = len(targets)
        rows = np.arange(N)
        shifted = logits - logits.max(axis=1, keepdims=True)  # (N, C), <= 0
        exp = np.exp(shifted)  # (N, C), in (0, 1], no overflow
        sum_exp = exp.sum(axis=1)  # (N,), >= 1 (the max term is exp(0))
        # logsumexp(z) - z_t = log(sum exp(shifted)) - shifted_t
        loss = float(np.mean(np.log(sum_exp) - shifted[rows, targets]))
        exp /= sum_exp[:, None]  # (N, C) softmax probabilities, in place
        self._probs, self._targets = exp, targets
        # end exercise
        return loss

    __call__ = forward

    def backward(self) -> np.ndarray:
        """dL/dlogits = (softmax(logits) - onehot(targets)) / N, shape (N, C)."""
        if self._probs is None:
            raise RuntimeError("CrossEntropyLoss.backward called before forward")
        # exercise: cross_entropy_backward: dz = (p - onehot(t)) / N; README "The backward passes, derived"
        N = len(self._targets)
        dlogits = self._probs.copy()  # (N, C)
        dlogits[np.arange(N), self._targets] -= 1  # p - onehot(t)
        dlogits /= N  # the mean over the batch
        return dlogits
        # end exercise

    @staticmethod
    def _check(logits, targets) -> tuple[np.ndarray, np.ndarray]:
        if not isinstance(logits, np.ndarray) or logits.ndim != 2 or not np.issubdtype(logits.dtype, np.floating):
            shape = getattr(logits, "shape", type(logits).__name__)
            raise ValueError(f"logits must be a 2-D float array (N, classes), got {shape}")
        targets = np.asarray(targets)
        if targets.ndim != 1 or len(targets) != len(logits):
            raise ValueError(
                f"targets must have shape ({len(logits)},) to match logits {logits.shape}, got {targets.shape}"
            )
        if not np.issubdtype(targets.dtype, np.integer):
            raise ValueError(f"targets must be integer class indices, got dtype {targets.dtype}")
        if len(targets) == 0:
            raise ValueError("cross-entropy of an empty batch is undefined")
        C = logits.shape[1]
        low, high = int(targets.min()), int(targets.max())
        if low < 0 or high >= C:
            raise ValueError(
                f"targets must be class indices in [0, {C - 1}] for {C} logits per row, got values in [{low}, {high}]"
            )
        return logits, targets
