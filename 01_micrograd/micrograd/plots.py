"""The demo's pictures: the learned decision boundary over the moons, and training curves.

The boundary needs the model's score at tens of thousands of grid points; building a
`Value` graph for each would take minutes, so `mlp_scores` runs the same MLP forward
in NumPy from the trained weights (one matrix product per layer). A test checks that it
agrees with the `Value` forward pass.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from shared.plotting import new_figure, save_figure

from .nn import MLP
from .train import StepRecord

__all__ = ["mlp_scores", "plot_decision_boundary", "plot_training"]


def mlp_scores(model: MLP, points: np.ndarray) -> np.ndarray:
    """The MLP's output for every row of `points` (N, nin), computed with NumPy: (N,) or (N, nout)."""
    h = np.asarray(points, np.float64)  # (N, nin)
    nin = len(model.layers[0].neurons[0].w)
    if h.ndim != 2 or h.shape[1] != nin:
        raise ValueError(f"points must have shape (N, {nin}), got {h.shape}")
    for layer in model.layers:
        W = np.array([[w.data for w in n.w] for n in layer.neurons])  # (nout, nin)
        b = np.array([n.b.data for n in layer.neurons])  # (nout,)
        h = h @ W.T + b  # (N, nout)
        if layer.neurons[0].nonlin:
            h = np.maximum(h, 0.0)
    return h[:, 0] if h.shape[1] == 1 else h


def plot_decision_boundary(
    model: MLP, X: np.ndarray, y: np.ndarray, path: str | os.PathLike, resolution: int = 300, title: str = ""
) -> Path:
    """Filled contour of sign(score) over the data's bounding box (+1 margin), the points on top."""
    x_min, y_min = X.min(axis=0) - 1.0
    x_max, y_max = X.max(axis=0) + 1.0
    gx, gy = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    scores = mlp_scores(model, np.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(gx.shape)  # (R, R)
    figure, axes = new_figure(width=6.0, height=5.0)
    axes.contourf(gx, gy, scores > 0, levels=[-0.5, 0.5, 1.5], colors=["#f4c7c3", "#c6dbef"], alpha=0.9)
    axes.contour(gx, gy, scores, levels=[0.0], colors="k", linewidths=1.0)
    axes.scatter(X[:, 0], X[:, 1], c=np.where(np.asarray(y) > 0, "#2166ac", "#b2182b"), s=22, edgecolors="k",
                 linewidths=0.5)  # fmt: skip
    axes.set_xlim(x_min, x_max)
    axes.set_ylim(y_min, y_max)
    axes.set_title(title or "decision boundary (score = 0)")
    return save_figure(figure, path)


def plot_training(history: list[StepRecord], path: str | os.PathLike) -> Path:
    """Loss (log scale) and training accuracy against the step, side by side."""
    steps = [r.step for r in history]
    figure, (loss_axes, accuracy_axes) = new_figure(width=10.0, height=4.0, ncols=2)
    loss_axes.plot(steps, [r.loss for r in history])
    loss_axes.set_yscale("log")
    loss_axes.set_title("max-margin loss + L2")
    accuracy_axes.plot(steps, [r.accuracy for r in history], color="tab:green")
    accuracy_axes.set_ylim(min(0.5, min(r.accuracy for r in history)), 1.01)
    accuracy_axes.set_title("training accuracy")
    for axes in (loss_axes, accuracy_axes):
        axes.set_xlabel("step")
        axes.grid(alpha=0.3)
    return save_figure(figure, path)
