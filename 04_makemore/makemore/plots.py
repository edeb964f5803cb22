"""The lectures' figures, saved as PNG: count matrix, loss curves, learning-rate finder,
the learned embeddings, and lecture 3's activation / gradient / update-to-data diagnostics.

Drawing only: the numbers come from `bigram`, `train` and `diagnostics`.
"""

from __future__ import annotations

import numpy as np

from shared.plotting import new_figure, save_figure

from .data import CHARS

DPI = 80  # small PNGs (the README shows them inline), still readable

__all__ = [
    "plot_count_matrix",
    "plot_embedding",
    "plot_histograms",
    "plot_loss",
    "plot_lr_finder",
    "plot_update_ratios",
]


def plot_count_matrix(path, counts: np.ndarray):
    """Lecture 2's 27x27 table: each cell is a bigram and how often it occurs."""
    figure, axes = new_figure(9, 9)
    axes.imshow(counts, cmap="Blues")
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            axes.text(j, i, CHARS[i] + CHARS[j], ha="center", va="bottom", color="gray", fontsize=5.5)
            axes.text(j, i, str(int(counts[i, j])), ha="center", va="top", color="gray", fontsize=5.5)
    axes.set_xticks(range(len(CHARS)), list(CHARS))
    axes.set_yticks(range(len(CHARS)), list(CHARS))
    axes.set_xlabel("next character")
    axes.set_ylabel("current character")
    axes.set_title("bigram counts in names.txt")
    return save_figure(figure, path, dpi=DPI)


def plot_loss(path, losses: np.ndarray, evals: list[tuple[int, float]], title: str = "", window: int = 1000):
    """Training loss (mean over windows of `window` steps, like lecture 5's view(-1, 1000)) and dev loss."""
    figure, axes = new_figure()
    losses = np.asarray(losses, np.float64)
    window = max(1, min(window, len(losses) // 10 or 1))
    usable = len(losses) // window * window
    if usable:
        means = losses[:usable].reshape(-1, window).mean(axis=1)
        axes.plot((np.arange(len(means)) + 0.5) * window, means, label=f"train (mean of {window} batches)")
    if evals:
        steps, dev = zip(*evals)
        axes.plot(steps, dev, "o-", label="dev")
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.set_title(title)
    axes.legend()
    axes.grid(alpha=0.3)
    return save_figure(figure, path, dpi=DPI)


def plot_lr_finder(path, exponents: np.ndarray, losses: np.ndarray):
    """Lecture 2's sweep: one step at each learning rate 10^e, e from -3 to 0; a good lr sits before the blow-up."""
    figure, axes = new_figure()
    axes.plot(exponents, losses, lw=0.7)
    axes.set_xlabel("log10(learning rate)")
    axes.set_ylabel("minibatch loss")
    axes.set_title("learning-rate finder")
    axes.grid(alpha=0.3)
    return save_figure(figure, path, dpi=DPI)


def plot_embedding(path, C: np.ndarray):
    """The embedding table C projected on its first two principal components, one letter per point."""
    C = np.asarray(C, np.float64)
    centred = C - C.mean(axis=0)
    if C.shape[1] > 2:
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        points = centred @ vt[:2].T  # (27, 2)
        labels = ("principal component 1", "principal component 2")
    else:
        points = C
        labels = ("C[:, 0]", "C[:, 1]")
    figure, axes = new_figure(7, 7)
    axes.scatter(points[:, 0], points[:, 1], s=200)
    for i, ch in enumerate(CHARS):
        axes.text(points[i, 0], points[i, 1], ch, ha="center", va="center", color="white")
    axes.set_xlabel(labels[0])
    axes.set_ylabel(labels[1])
    axes.set_title("learned character embeddings")
    axes.grid(alpha=0.3)
    return save_figure(figure, path, dpi=DPI)


def plot_histograms(path, arrays: dict[str, np.ndarray], title: str):
    """Lecture 3's overlaid histograms, one per layer, with mean and std in the legend."""
    figure, axes = new_figure(10, 4)
    for name, values in arrays.items():
        values = np.asarray(values, np.float64).ravel()
        counts, edges = np.histogram(values, bins=60, density=True)
        axes.plot(
            (edges[:-1] + edges[1:]) / 2, counts, label=f"{name}: mean {values.mean():+.2e}, std {values.std():.2e}"
        )
    axes.set_title(title)
    axes.legend(fontsize=7)
    return save_figure(figure, path, dpi=DPI)


def plot_update_ratios(path, ratios: dict[str, list[float]]):
    """log10(std(lr * grad) / std(param)) per weight matrix per step; lecture 3's guide line at -3."""
    figure, axes = new_figure(10, 4)
    for name, values in ratios.items():
        axes.plot(values, label=name)
    if ratios:
        axes.plot([0, len(next(iter(ratios.values())))], [-3, -3], "k--", label="1e-3")
    axes.set_xlabel("step")
    axes.set_ylabel("log10 update / data")
    axes.set_title("update-to-data ratio")
    axes.legend(fontsize=7)
    return save_figure(figure, path, dpi=DPI)
