"""Lecture 3's health checks of a deep net: activations, gradients and update-to-data ratios.

Trains lecture 3's deeper model (`mlp-deep`: 5 x Linear + BatchNorm + Tanh, 100 units) for a
short while, as the lecture does (it stops after 1,000 steps to look), and saves:

- activations.png: the distribution of every tanh layer's output, with the saturated
  fraction (|t| > 0.97) in the returned statistics,
- activation_gradients.png: the gradient arriving at every tanh layer's output,
- weight_gradients.png: the gradients of the weight matrices,
- update_ratios.png: log10(std(lr * grad) / std(weight)) per step; around -3 is healthy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .layers import Linear, Tanh
from .models import build_model
from .plots import plot_histograms, plot_update_ratios
from .train import Recipe, make_datasets, train_model

__all__ = ["run_diagnostics"]


def run_diagnostics(split, out: Path, seed: int = 0, steps: int = 1000, lr: float = 0.1) -> dict:
    """Train `mlp-deep` for `steps` steps at a constant `lr`, save the four plots, return summary numbers."""
    model = build_model("mlp-deep", rng=seed)
    data = make_datasets(split, model.config)
    layers = model.net.layers
    weights = {
        f"layer {i} ({layer.weight.shape[0]}x{layer.weight.shape[1]})": layer
        for i, layer in enumerate(layers)
        if isinstance(layer, Linear)
    }
    ratios: dict[str, list[float]] = {name: [] for name in weights}

    def record(step, model):
        for name, layer in weights.items():
            ratios[name].append(float(np.log10((lr * layer.dweight).std() / layer.weight.std())))

    recipe = Recipe(max_steps=steps, lr=lr, decay_at=1.0, eval_every=steps)
    train_model(model, {"train": data["train"]}, recipe, rng=seed + 1, description="diagnostics", on_step=record)
    # one more training-mode batch to look at, as the lecture does after its loop
    rng = np.random.default_rng(seed + 2)
    ix = rng.integers(0, len(data["train"][0]), 32)
    _, dlogits = model.loss(data["train"][0][ix], data["train"][1][ix])
    model.zero_grad()
    model.backward(dlogits)
    tanhs = {f"layer {i} (tanh)": layer for i, layer in enumerate(layers) if isinstance(layer, Tanh)}
    plot_histograms(out / "activations.png", {k: t.out for k, t in tanhs.items()}, "activation distribution")
    plot_histograms(out / "activation_gradients.png", {k: t.dout for k, t in tanhs.items()}, "gradient distribution")
    plot_histograms(
        out / "weight_gradients.png", {k: w.dweight for k, w in weights.items()}, "weight gradient distribution"
    )
    plot_update_ratios(out / "update_ratios.png", ratios)
    return {
        "saturated_fraction": {k: float((np.abs(t.out) > 0.97).mean()) for k, t in tanhs.items()},
        "final_update_ratio_log10": {k: float(np.mean(v[-100:])) for k, v in ratios.items()},
    }
