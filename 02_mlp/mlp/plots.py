"""The run's pictures: learning curves, misclassified test images, first-layer weights.

What this module does not do: show anything on screen (figures are PNG files, via
`shared.plotting`, which uses matplotlib's headless Agg backend).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shared.plotting import image_grid, new_figure, save_figure

from .train import History

__all__ = ["plot_first_layer", "plot_history", "plot_misclassified"]


def plot_history(path: Path, history: History, title: str = "") -> Path:
    """Two panels: loss (train, test) and accuracy (train, test) against the epoch."""
    epochs = np.arange(1, len(history.train_loss) + 1)
    figure, (left, right) = new_figure(10, 4, ncols=2)
    left.plot(epochs, history.train_loss, marker="o", label="train")
    left.plot(epochs, history.test_loss, marker="o", label="test")
    left.set(xlabel="epoch", ylabel="cross-entropy loss", yscale="log")
    right.plot(epochs, history.train_accuracy, marker="o", label="train")
    right.plot(epochs, history.test_accuracy, marker="o", label="test")
    right.set(xlabel="epoch", ylabel="accuracy")
    for axes in (left, right):
        axes.grid(alpha=0.3)
        axes.legend()
    if title:
        figure.suptitle(title)
    return save_figure(figure, path)


def plot_misclassified(
    path: Path, images: np.ndarray, labels: np.ndarray, predictions: np.ndarray, class_names: list[str], count: int = 40
) -> Path:
    """A grid of the first `count` test images the model gets wrong, titled 'pred X / true Y'."""
    wrong = np.flatnonzero(predictions != labels)[:count]
    if len(wrong) == 0:  # a perfect model: show a blank tile rather than fail
        return image_grid(path, np.zeros((1, 28, 28)), ["no errors"], ncols=1)
    titles = [f"pred {class_names[predictions[i]]}\ntrue {class_names[labels[i]]}" for i in wrong]
    return image_grid(path, images[wrong].reshape(-1, 28, 28), titles, ncols=10)


def plot_first_layer(path: Path, W: np.ndarray, count: int = 40, class_names: list[str] | None = None) -> Path:
    """The first `count` columns of the first layer's W (784, units) as 28x28 pictures.

    Each column is the template a unit's pre-activation correlates the image with; for
    softmax regression (10 units) they are the class templates, titled by class.
    """
    units = W[:, :count].T.reshape(-1, 28, 28)  # (count, 28, 28)
    titles = class_names if class_names is not None and len(units) == len(class_names) else None
    return image_grid(path, units, titles, ncols=10, cmap="bwr", symmetric=True)
