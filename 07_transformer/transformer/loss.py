"""Label-smoothed cross-entropy (section 5.4, eps_ls = 0.1), ignoring padding positions.

The target distribution is q = (1 - eps) * onehot(y) + eps / V (uniform over the whole
vocabulary, the convention of torch's `F.cross_entropy(label_smoothing=eps)`), so

    loss_i = -sum_v q_v log p_v = (1 - eps) * nll_i + eps * mean_v(-log p_v)

and the gradient with respect to the logits is simply softmax(logits) - q. Positions whose
target is `pad_id` contribute neither loss nor gradient; the mean is over the others.
"""

from __future__ import annotations

import numpy as np


def label_smoothed_cross_entropy(logits, targets, smoothing: float = 0.1, pad_id: int | None = 0, reduction="mean"):
    """Loss and dlogits for logits (..., V) and integer targets (...).

    reduction: "mean" (over non-pad positions) or "sum" (for gradient accumulation, where
    the caller divides by the total token count of all micro-batches).
    Returns (loss, dlogits, n_tokens).
    """
    if logits.shape[:-1] != targets.shape:
        raise ValueError(f"logits {logits.shape} and targets {targets.shape} disagree: want (..., V) and (...)")
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"label smoothing must be in [0, 1), got {smoothing}")
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    V = logits.shape[-1]
    flat = logits.reshape(-1, V)  # (N, V)
    y = targets.reshape(-1)  # (N,)
    if y.size and (y.min() < 0 or y.max() >= V):
        raise ValueError(f"targets must lie in [0, {V})")
    # exercise: label_smoothing: label-smoothed loss and dlogits = softmax - q, no padding (README 5.4)
    keep = np.ones_like(y, dtype=bool) if pad_id is None else y != pad_id  # (N,)
    n_tokens = int(keep.sum())
    # One exp over (N, V), the largest array of a training step: with shifted = x - max and
    # Z = sum(exp(shifted)), log p = shifted - log Z, and the probabilities are exp(shifted) / Z.
    shifted = flat - flat.max(axis=-1, keepdims=True)  # (N, V)
    probs = np.exp(shifted)
    log_z = np.log(probs.sum(axis=-1, keepdims=True))  # (N, 1)
    probs /= np.exp(log_z)
    rows = np.arange(y.size)
    nll = log_z[:, 0] - shifted[rows, y]  # (N,)
    uniform = log_z[:, 0] - shifted.mean(axis=-1)  # mean over v of -log p_v
    per_token = (1.0 - smoothing) * nll + smoothing * uniform
    total = float((per_token * keep).sum(dtype=np.float64))
    denominator = max(n_tokens, 1) if reduction == "mean" else 1
    dflat = probs  # softmax - q, built in place
    dflat -= smoothing / V
    dflat[rows, y] -= 1.0 - smoothing
    dflat *= (keep / denominator).astype(dflat.dtype)[:, None]
    return total / denominator, dflat.reshape(logits.shape), n_tokens
    # end exercise
