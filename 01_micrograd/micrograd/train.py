"""micrograd's demo task: a max-margin (SVM) classifier of the two moons, trained by SGD.

For labels y in {-1, +1} and the MLP's score s(x), the loss is the hinge loss averaged
over the data set plus L2 regularisation of every parameter (micrograd's demo.ipynb):

    L = mean_i relu(1 - y_i s(x_i)) + alpha * sum_p p^2

A point stops contributing once it is on the right side with margin 1 (y s >= 1). The
whole data set is one batch; the learning rate decays linearly from 1.0 to 0.1:
lr_k = 1.0 - 0.9 k / steps (micrograd hard-codes steps = 100).

What it does not do: minibatches or held-out evaluation; the demo's number is training
accuracy, as in micrograd.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

from shared.checks import check_memory

from .engine import Value
from .fast import backward_fast, cycle_collector_paused
from .nn import MLP

__all__ = [
    "BYTES_PER_POINT",
    "StepRecord",
    "check_graph_memory",
    "learning_rate",
    "max_margin_loss",
    "sgd_step",
    "train",
]

# One point's loss graph in MLP(2, [16, 16, 1]): about 650 Values, measured at about 150 KB with tracemalloc.
BYTES_PER_POINT = 200_000


@dataclass
class StepRecord:
    """One training step: the loss and accuracy of the forward pass before its update."""

    step: int
    loss: float
    accuracy: float
    learning_rate: float


def learning_rate(step: int, steps: int) -> float:
    """Linear decay from 1.0 at step 0 towards 0.1 at the last step (micrograd's schedule)."""
    return 1.0 - 0.9 * step / steps


def _check_data(X: np.ndarray, y: np.ndarray, nin: int) -> None:
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != nin:
        raise ValueError(f"X must have shape (N, {nin}) for this model, got {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    if X.shape[0] == 0:
        raise ValueError("X holds no points")
    if not np.isin(y, (-1, 1)).all():
        raise ValueError(f"labels must be -1 or +1 for the max-margin loss, got {sorted(set(np.unique(y).tolist()))}")
    if not np.isfinite(X).all():
        raise ValueError("X holds NaN or infinite values")


def check_graph_memory(points: int, what: str, copies: int = 1) -> None:
    """Refuse (ValueError) a loss over `points` points whose graph would not fit in memory, before building it."""
    check_memory(copies * points * BYTES_PER_POINT, f"{what} (a graph of about {650 * points:,} Values)")


def max_margin_loss(model: MLP, X: np.ndarray, y: np.ndarray, alpha: float = 1e-4) -> tuple[Value, float]:
    """The regularised hinge loss of `model` on points X (N, nin), labels y (N,) in {-1, +1}.

    Returns the loss as a `Value` (ready for `.backward()`) and the accuracy as a fraction.
    """
    _check_data(X, y, len(model.layers[0].neurons[0].w))
    inputs = np.asarray(X, np.float64).tolist()  # plain floats: inputs need no gradient, so no nodes
    labels = np.asarray(y, np.float64).tolist()
    scores = [model(x) for x in inputs]
    # exercise: max_margin_loss: data_loss = mean hinge relu(1 - y s), reg_loss = alpha sum p^2 (train.py docstring)
    losses = [(1.0 - label * score).relu() for label, score in zip(labels, scores)]  # hinge
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum(p * p for p in model.parameters())  # L2
    # end exercise
    accuracy = sum((label > 0) == (score.data > 0) for label, score in zip(labels, scores)) / len(labels)
    return data_loss + reg_loss, accuracy


def train(
    model: MLP,
    X: np.ndarray,
    y: np.ndarray,
    steps: int = 100,
    alpha: float = 1e-4,
    on_step: Callable[[StepRecord], None] | None = None,
    pause_cycle_collector: bool = True,
) -> list[StepRecord]:
    """Full-batch SGD on the max-margin loss for `steps` steps; returns one record per step.

    `pause_cycle_collector=False` leaves Python's cycle collector running during the steps
    (slower, for the benchmark; see `fast.cycle_collector_paused`).
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if not math.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha (L2 strength) must be finite and >= 0, got {alpha!r}")
    history = []
    for k in range(steps):
        record = sgd_step(model, X, y, k, steps, alpha, pause_cycle_collector)
        history.append(record)
        if on_step is not None:
            on_step(record)
    return history


def sgd_step(
    model: MLP, X: np.ndarray, y: np.ndarray, step: int, steps: int, alpha: float, pause_cycle_collector: bool = True
) -> StepRecord:
    """Step `step` of `steps`: forward, zero_grad, backward, p -= lr * grad; returns its record.

    The backward pass is `fast.backward_fast`: the same gradients as `loss.backward()`, about 1.3x faster.
    """
    with cycle_collector_paused() if pause_cycle_collector else nullcontext():  # the graph has no cycles
        loss, accuracy = max_margin_loss(model, X, y, alpha)
        model.zero_grad()
        backward_fast(loss)
        # exercise: sgd_update: lr = learning_rate(step, steps), then every parameter p -= lr * dL/dp (README, idea 5)
        lr = learning_rate(step, steps)
        for p in model.parameters():
            p.data -= lr * p.grad
        # end exercise
    if not math.isfinite(loss.data):
        raise FloatingPointError(f"the loss became {loss.data} at step {step}: training diverged")
    return StepRecord(step, loss.data, accuracy, lr)
