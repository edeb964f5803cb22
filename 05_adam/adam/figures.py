"""Turn the experiments' curves into PNG figures and CSV files (nothing here trains anything).

`dpi` is 120 for the run folders; the README's copies in 05_adam/assets are drawn at ASSET_DPI to stay small.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

from shared.plotting import new_figure, save_figure

from .toy import QUADRATIC_H, TOY_FUNCTIONS, rosenbrock

__all__ = ["ASSET_DPI", "plot_bias_correction", "plot_costs", "plot_toy", "write_csv"]

ASSET_DPI = 72


def write_csv(path: str | os.PathLike, rows: list[dict]) -> Path:
    """Rows of equal keys as a CSV with a header line."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def curves_to_rows(curves: dict, labels: dict) -> list[dict]:
    return [
        {"method": name, "label": labels[name], "epoch": round(epoch, 6), "train_cost": cost}
        for name, curve in curves.items()
        for epoch, cost in zip(curve["epoch"], curve["cost"])
    ]


def plot_costs(path, curves: dict, labels: dict, title: str, logy: bool = True, dpi: int = 120) -> Path:
    """Training cost against epochs, one line per method (Figures 1 and 2)."""
    figure, axes = new_figure(6.4, 4.8)
    for name, curve in curves.items():
        axes.plot(curve["epoch"], curve["cost"], label=labels[name], marker="." if len(curve["epoch"]) < 30 else None)
    axes.set_xlabel("iterations over entire dataset (epochs)")
    axes.set_ylabel("training cost")
    if logy:
        axes.set_yscale("log")
    axes.set_title(title)
    axes.legend()
    axes.grid(alpha=0.3, which="both")
    return save_figure(figure, path, dpi=dpi)


def plot_bias_correction(path, rows: list[dict], clip: float | None = None) -> Path:
    """Section 6.4 / Figure 4 layout: a column per beta2, a row per budget; loss against log10(step size)."""
    beta2s = sorted({row["beta2"] for row in rows})
    budgets = sorted({row["iterations"] for row in rows})
    finite = [row["loss"] for row in rows if math.isfinite(row["loss"])]
    top = clip if clip is not None else (2 * float(np.median(finite)) if finite else 1.0)
    figure, axes = new_figure(4.0 * len(beta2s), 3.2 * len(budgets), nrows=len(budgets), ncols=len(beta2s))
    axes = np.atleast_2d(axes)
    styles = {(0.0, True): ("tab:green", "-"), (0.0, False): ("tab:red", "-"),
              (0.9, True): ("tab:green", "--"), (0.9, False): ("tab:red", "--")}  # fmt: skip
    for i, budget in enumerate(budgets):
        for j, beta2 in enumerate(beta2s):
            axis = axes[i, j]
            groups = sorted({(row["beta1"], row["bias_correction"]) for row in rows})
            for beta1, corrected in groups:
                points = sorted(
                    (row["lr"], row["loss"]) for row in rows
                    if row["iterations"] == budget and row["beta2"] == beta2
                    and row["beta1"] == beta1 and row["bias_correction"] == corrected
                )  # fmt: skip
                lrs = np.log10([lr for lr, _ in points])
                losses = np.array([min(loss, top) for _, loss in points])  # diverged runs drawn at the clip
                color, style = styles.get((beta1, corrected), (None, ":"))
                label = f"beta1={beta1:g}, {'with' if corrected else 'no'} bias correction"
                axis.plot(lrs, losses, style, color=color, marker="o", markersize=3, label=label)
            axis.set_ylim(top=top * 1.02)
            axis.set_title(f"beta2={beta2:g}, after {budget} iterations", fontsize=9)
            axis.set_xlabel("log10(step size)")
            axis.set_ylabel("loss")
            axis.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    return save_figure(figure, path)


def plot_toy(path, paths: dict, dpi: int = 120) -> Path:
    """Contour plots of the toy functions with every optimizer's path: paths[function][name] (steps + 1, 2)."""
    figure, axes = new_figure(12.0, 5.5, ncols=len(paths))
    axes = np.atleast_1d(axes)
    for axis, (function, by_name) in zip(axes, paths.items()):
        info = TOY_FUNCTIONS[function]
        xs = np.linspace(*info["xlim"], 300)
        ys = np.linspace(*info["ylim"], 300)
        X, Y = np.meshgrid(xs, ys)  # (300, 300)
        if function == "rosenbrock":
            Z = np.log10(np.vectorize(lambda a, b: rosenbrock(np.array([a, b]))[0])(X, Y) + 1e-3)
        else:
            P = np.stack([X, Y], axis=-1)  # (300, 300, 2)
            Z = np.log10(0.5 * np.einsum("...i,ij,...j->...", P, QUADRATIC_H, P) + 1e-3)
        axis.contour(X, Y, Z, levels=25, cmap="Greys", linewidths=0.6)
        for name, points in by_name.items():
            axis.plot(points[:, 0], points[:, 1], linewidth=1.2, label=name)
        axis.plot(*info["start"], "ko", markersize=5)
        axis.plot(*info["minimum"], "r*", markersize=12)
        axis.set_xlim(*info["xlim"])
        axis.set_ylim(*info["ylim"])
        axis.set_title(function.replace("_", " "))
    axes[0].legend(fontsize=8, loc="lower right")
    return save_figure(figure, path, dpi=dpi)
