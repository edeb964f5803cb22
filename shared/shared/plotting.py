"""Headless plotting helpers: every figure is saved as a PNG and closed, never shown.

Importing this module selects matplotlib's Agg backend, so it works on machines with no
display (CI, servers). It offers the few figure kinds several projects draw (curves
against steps, a grid of small images); anything project-specific is drawn by the
project itself with `new_figure` + `save_figure`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: must come before pyplot is imported

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["image_grid", "new_figure", "plot_curves", "save_figure"]


def new_figure(width: float = 6.4, height: float = 4.8, nrows: int = 1, ncols: int = 1):
    """A (figure, axes) pair, like `plt.subplots`."""
    return plt.subplots(nrows, ncols, figsize=(width, height))


def save_figure(figure, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Save `figure` as PNG at `path` (parent folders created), close it, return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=dpi)
    plt.close(figure)
    return path


def plot_curves(
    path: str | os.PathLike,
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    xlabel: str = "step",
    ylabel: str = "loss",
    title: str = "",
    logy: bool = False,
) -> Path:
    """Line plot of several named (x, y) curves on one set of axes, saved as PNG."""
    figure, axes = new_figure()
    for label, (x, y) in curves.items():
        axes.plot(x, y, label=label)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    if logy:
        axes.set_yscale("log")
    if title:
        axes.set_title(title)
    if len(curves) > 1:
        axes.legend()
    axes.grid(alpha=0.3)
    return save_figure(figure, path)


def image_grid(
    path: str | os.PathLike,
    images: np.ndarray,
    titles: Sequence[str] | None = None,
    ncols: int = 10,
    cmap: str = "gray",
    symmetric: bool = False,
) -> Path:
    """Save a grid of 2-D images (N, H, W), each with an optional title, as PNG.

    `symmetric=True` centres the colour scale on zero (for weights, with cmap 'bwr').
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (N, H, W), got {images.shape}")
    count = len(images)
    ncols = max(1, min(ncols, count))
    nrows = max(1, -(-count // ncols))
    figure, axes = plt.subplots(nrows, ncols, figsize=(1.3 * ncols, 1.45 * nrows), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index >= count:
            continue
        image = images[index]
        if symmetric:
            limit = float(np.abs(image).max()) or 1.0
            axis.imshow(image, cmap=cmap, vmin=-limit, vmax=limit)
        else:
            axis.imshow(image, cmap=cmap)
        if titles is not None:
            axis.set_title(titles[index], fontsize=7)
    return save_figure(figure, path)
