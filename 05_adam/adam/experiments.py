"""The paper's experiments in small form: Figure 1 (Section 6.1), Figure 2 (6.2), the bias-correction grid (6.4).

Each `run_*` function trains, returns its curves as plain Python data, and draws nothing; `__main__` turns
the curves into a PNG and a CSV. The tuned step sizes below come from `python -m adam sweep fig1|fig2`
(a log grid per method, best final training cost wins; the grids and the sweep's output are in the README).

What differs from the paper, to fit minutes on two shared CPU cores: fewer epochs than the paper's curves,
Figure 2 on a fixed random subset of MNIST, and Section 6.4 uses a small autoencoder instead of a VAE, with
budgets counted in iterations instead of 10 and 100 epochs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from shared.data import load_mnist
from shared.progress import Progress
from shared.seeding import make_rng

from . import nn
from .optim import OPTIMIZERS, Optimizer
from .schedules import InverseSqrtSchedule

__all__ = [
    "FIG1_METHODS",
    "FIG2_METHODS",
    "SWEEP_GRIDS",
    "DivergedError",
    "Method",
    "load_mnist_flat",
    "run_bias_correction",
    "run_fig1",
    "run_fig2",
    "sweep",
]  # fmt: skip


@dataclass(frozen=True)
class Method:
    """One curve of a figure: an optimizer class, its fixed settings and its (tuned) base step size."""

    label: str
    optimizer: str
    lr: float
    settings: dict = field(default_factory=dict)

    def build(self, params, lr: float | None = None) -> Optimizer:
        return OPTIMIZERS[self.optimizer](params, lr=self.lr if lr is None else lr, **self.settings)


# Tuned by `python -m adam sweep fig1` (alpha of alpha / sqrt(t), t = iteration; see README).
FIG1_METHODS = {
    "adam": Method("Adam", "Adam", 1e-1),
    "adagrad": Method("AdaGrad", "Adagrad", 1e-1),
    "sgd_nesterov": Method("SGDNesterov", "SGD", 3.0, {"momentum": 0.9, "nesterov": True}),
}
# Tuned by `python -m adam sweep fig2` in two rounds: a log grid on 10,000 images for 3 epochs, then the
# neighbours of the best values (and beta2 for Adam, alpha for RMSProp) at the repro budget; see README.
FIG2_METHODS = {
    "adam": Method("Adam", "Adam", 1e-3, {"betas": (0.9, 0.99)}),
    "adagrad": Method("AdaGrad", "Adagrad", 1e-2),
    "rmsprop": Method("RMSProp", "RMSprop", 5e-4),
    "sgd_nesterov": Method("SGDNesterov", "SGD", 1e-1, {"momentum": 0.9, "nesterov": True}),
    "adadelta": Method("AdaDelta", "Adadelta", 1.0, {"rho": 0.95}),
}
SWEEP_GRIDS = {
    "fig1": {
        "adam": [1e-2, 3e-2, 1e-1, 3e-1, 1.0],
        "adagrad": [1e-2, 3e-2, 1e-1, 3e-1, 1.0],
        "sgd_nesterov": [1e-1, 3e-1, 1.0, 3.0, 10.0],
    },
    "fig2": {
        "adam": [1e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3],
        "adagrad": [3e-3, 5e-3, 1e-2, 2e-2, 3e-2, 1e-1],
        "rmsprop": [1e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3],
        "sgd_nesterov": [3e-3, 1e-2, 3e-2, 1e-1],
        "adadelta": [0.1, 0.3, 1.0, 3.0],
    },
}


def load_mnist_flat(split: str = "train", size: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """MNIST as float32 pixels in [0, 1], (N, 784), and int64 labels; `size` keeps a fixed random subset."""
    images, labels = load_mnist("mnist", split)
    if size is not None:
        if not 0 < size <= len(images):
            raise ValueError(f"train size must be in [1, {len(images)}], got {size}")
        keep = np.sort(make_rng(seed).permutation(len(images))[:size])
        images, labels = images[keep], labels[keep]
    x = images.reshape(len(images), -1).astype(np.float32) / 255  # (N, 784)
    return x, labels.astype(np.int64)


def _batches(n: int, batch_size: int, rng: np.random.Generator):
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


class DivergedError(ValueError):
    """A training loss became NaN or infinite: the run stops at once and writes nothing."""


def _check_loss(figure: str, name: str, method: Method, loss: float, t: int) -> None:
    if not math.isfinite(loss):
        raise DivergedError(
            f"{figure}: the training loss of {method.label} became {loss} at iteration {t} "
            f"(lr {method.lr:g}, settings {method.settings or 'default'}); the run stopped and wrote no results. "
            f"Try a smaller step size (--lr {name}=...) or other --set values"
        )


def _check_methods(methods: dict, only) -> dict:
    if only:
        unknown = sorted(set(only) - set(methods))
        if unknown:
            raise ValueError(f"unknown methods {unknown}; choose from {sorted(methods)}")
        methods = {name: methods[name] for name in only}
    return methods


def run_fig1(
    x: np.ndarray, y: np.ndarray, epochs: int = 5, batch_size: int = 128, l2: float = 1e-4, seed: int = 0,
    methods: dict | None = None, evals_per_epoch: int = 4, progress: bool = True, stop_on_nan: bool = True,
) -> dict:  # fmt: skip
    """Section 6.1: L2-regularised logistic regression, step size alpha / sqrt(t).

    Returns {method: {"epoch": [...], "cost": [...]}} with the full training cost (cross-entropy + L2)
    measured `evals_per_epoch` times per epoch. A minibatch loss that is NaN or infinite raises
    `DivergedError` (unless `stop_on_nan=False`: the sweep records such a run as an infinite cost).
    """
    methods = FIG1_METHODS if methods is None else methods
    n = len(x)
    per_epoch = math.ceil(n / batch_size)
    eval_every = max(per_epoch // evals_per_epoch, 1)
    curves = {}
    for name, method in methods.items():
        rng = make_rng(seed)  # same shuffling for every method
        model = nn.LogisticRegression(x.shape[1], 10, l2=l2)
        optimizer = method.build(model.params)
        schedule = InverseSqrtSchedule(method.lr)
        curve = {"epoch": [0.0], "cost": [model.cost(x, y)]}
        bar = Progress(epochs * per_epoch, f"fig1 {name}") if progress else None
        t = 0
        for _ in range(epochs):
            for batch in _batches(n, batch_size, rng):
                t += 1
                optimizer.lr = schedule(t)
                optimizer.zero_grad()
                loss = model.loss_and_backward(x[batch], y[batch])
                if stop_on_nan:
                    _check_loss("fig1", name, method, loss, t)
                optimizer.step()
                if t % eval_every == 0 or t == epochs * per_epoch:
                    curve["epoch"].append(t / per_epoch)
                    curve["cost"].append(model.cost(x, y))
                if bar:
                    bar.update(t, loss=loss)
        if bar:
            bar.close()
        curves[name] = curve
    return curves


def run_fig2(
    x: np.ndarray, y: np.ndarray, epochs: int = 3, batch_size: int = 128, dropout: float = 0.5, seed: int = 0,
    methods: dict | None = None, progress: bool = True, stop_on_nan: bool = True,
) -> dict:  # fmt: skip
    """Section 6.2: 784-1000-1000-10 ReLU MLP with dropout, constant step size.

    Returns {method: {"epoch": [1, 2, ...], "cost": [...]}}, the mean minibatch training cost (with dropout
    on, i.e. the objective the optimizer sees) over each epoch. A minibatch loss that is NaN or infinite
    raises `DivergedError` (unless `stop_on_nan=False`: the curve then ends at the epoch it diverged in).
    """
    methods = FIG2_METHODS if methods is None else methods
    n = len(x)
    per_epoch = math.ceil(n / batch_size)
    curves = {}
    for name, method in methods.items():
        rng = make_rng(seed)  # same initialisation, dropout masks and shuffling for every method
        model = nn.mlp(rng, (x.shape[1], 1000, 1000, 10), dropout=dropout)
        optimizer = method.build(model.params)
        curve = {"epoch": [], "cost": []}
        bar = Progress(epochs * per_epoch, f"fig2 {name}") if progress else None
        t = 0
        for epoch in range(epochs):
            total = 0.0
            for batch in _batches(n, batch_size, rng):
                t += 1
                optimizer.zero_grad()
                loss, dlogits = nn.softmax_cross_entropy(model.forward(x[batch]), y[batch])
                if stop_on_nan:
                    _check_loss("fig2", name, method, loss, t)
                model.backward(dlogits)
                optimizer.step()
                total += loss * len(batch)
                if bar:
                    bar.update(t, loss=loss)
                if not math.isfinite(loss):
                    break
            curve["epoch"].append(epoch + 1)
            curve["cost"].append(total / n)
            if not math.isfinite(total):
                break
        if bar:
            bar.close()
        curves[name] = curve
    return curves


def run_bias_correction(
    x: np.ndarray, budgets=(100, 500), lrs=(1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2), beta1s=(0.0, 0.9),
    beta2s=(0.99, 0.999, 0.9999), batch_size: int = 128, eval_size: int = 1000, seed: int = 0, progress: bool = True,
) -> list[dict]:  # fmt: skip
    """Section 6.4 in small form: autoencoder loss after each budget (iterations), with and without bias correction.

    Returns one row per run and budget: beta1, beta2, lr, bias_correction, iterations, loss (mean BCE per image
    on `eval_size` fixed training images; inf where the run diverged).
    """
    budgets = sorted(budgets)
    if not budgets or budgets[0] < 1:
        raise ValueError(f"budgets must be positive iteration counts, got {budgets}")
    x_eval = x[:eval_size]
    runs = [(b1, b2, lr, bc) for b1 in beta1s for b2 in beta2s for bc in (True, False) for lr in lrs]
    rows = []
    bar = Progress(len(runs), "bias-correction runs") if progress else None
    for index, (beta1, beta2, lr, corrected) in enumerate(runs):
        rng = make_rng(seed)
        model = nn.autoencoder(rng, (x.shape[1], 128, 32, 128, x.shape[1]))
        optimizer = OPTIMIZERS["Adam"](model.params, lr=lr, betas=(beta1, beta2), bias_correction=corrected)
        t, losses = 0, {}
        with np.errstate(all="ignore"):  # the runs that diverge overflow; they are recorded as inf
            while t < budgets[-1]:
                for batch in _batches(len(x), batch_size, rng):
                    t += 1
                    optimizer.zero_grad()
                    loss, dlogits = nn.sigmoid_binary_cross_entropy(model.forward(x[batch]), x[batch])
                    model.backward(dlogits)
                    optimizer.step()
                    if not math.isfinite(loss):
                        t = budgets[-1]  # diverged: every remaining budget gets inf
                        break
                    if t in budgets:
                        losses[t] = nn.sigmoid_binary_cross_entropy(model.forward(x_eval), x_eval)[0]
                    if t >= budgets[-1]:
                        break
        for budget in budgets:
            loss = losses.get(budget, math.inf)
            rows.append(dict(beta1=beta1, beta2=beta2, lr=lr, bias_correction=corrected, iterations=budget,
                             loss=loss if math.isfinite(loss) else math.inf))  # fmt: skip
        if bar:
            bar.update(index + 1)
    if bar:
        bar.close()
    return rows


def sweep(
    figure: str, x: np.ndarray, y: np.ndarray, epochs: int, seed: int = 0, grids=None, only=None, settings=None
) -> dict:
    """Final training cost for each method and step size of the figure's grid: {method: {lr: cost}}.

    `settings` ({method: {argument: value}}) overrides other hyperparameters (e.g. Adam's betas) for the sweep.
    """
    if figure not in ("fig1", "fig2"):
        raise ValueError(f"sweep: figure must be 'fig1' or 'fig2', got {figure!r}")
    grids = _check_methods((grids or SWEEP_GRIDS)[figure], only)
    base = FIG1_METHODS if figure == "fig1" else FIG2_METHODS
    run = run_fig1 if figure == "fig1" else run_fig2
    table: dict = {}
    for name, lrs in grids.items():
        table[name] = {}
        for lr in lrs:
            extra = (settings or {}).get(name, {})
            method = Method(base[name].label, base[name].optimizer, lr, {**base[name].settings, **extra})
            with np.errstate(all="ignore"):
                curve = run(x, y, epochs=epochs, seed=seed, methods={name: method}, progress=False, stop_on_nan=False)
                curve = curve[name]
            cost = curve["cost"][-1] if len(curve["epoch"]) and curve["epoch"][-1] == epochs else math.inf
            table[name][lr] = cost if math.isfinite(cost) else math.inf
            shown = "".join(f" {key} {value}" for key, value in method.settings.items())
            print(f"sweep {figure} {name:13s} lr {lr:<8g}{shown} final training cost {table[name][lr]:.5f}", flush=True)
    return table
