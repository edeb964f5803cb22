"""Choosing the learning rate without looking at the test set: a held-out validation sweep.

The paper does not give its step sizes (it used a per-weight rate from a diagonal Hessian
estimate), so ours is a choice, and a choice made by test error would make the test error
an optimistic estimate. Instead:

    1. split the 7291 training digits into a training part (the first N - holdout) and a
       validation part (the last `holdout`, which the sweep never trains on);
    2. train every candidate setting (learning rate, optionally decaying linearly to
       lr * decay over the passes) on the training part, for each seed;
    3. choose the setting with the lowest mean validation error (ties: lower validation loss);
    4. train once with that setting on all 7291 digits and report the test error (`repro`).

The test split is not read here at all. With 1000 validation digits one miss is 0.1%, so
settings closer than a few tenths of a percent are a toss-up: more seeds narrow that.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import numpy as np

from .train import RunConfig, train

__all__ = ["choose", "holdout_split", "sweep"]


def holdout_split(data: dict, holdout: int) -> dict:
    """Training arrays split in two, keyed as `train` expects: the last `holdout` digits become 'test'."""
    n = len(data["x_train"])
    if not 0 < holdout < n:
        raise ValueError(f"holdout must be between 1 and {n - 1} (the training set has {n} digits), got {holdout}")
    cut = n - holdout
    split = {}
    for kind in ("x", "y", "label"):
        split[f"{kind}_train"] = data[f"{kind}_train"][:cut]
        split[f"{kind}_test"] = data[f"{kind}_train"][cut:]  # validation digits, under the name train() reads
    return split


def sweep(
    base: RunConfig,
    data: dict,
    lrs: list[float],
    decays: list[float],
    seeds: list[int],
    holdout: int = 1000,
    log=print,
    jobs: int = 1,
) -> list[dict]:
    """Train every (lr, decay, seed) on the training part; one row per run with validation metrics.

    decay 1 is a constant rate; decay d < 1 decays linearly from lr to lr * d over the passes.
    `jobs` > 1 trains that many runs at once in separate processes (one core each); the rows
    and the numbers in them are the same as with `jobs` 1, since each run is seeded on its own.
    """
    if not lrs or not decays or not seeds:
        raise ValueError("need at least one learning rate, one decay and one seed")
    if any(not (np.isfinite(d) and 0 < d <= 1) for d in decays):
        raise ValueError(f"decays must be in (0, 1] (1: a constant rate), got {decays}")
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    split = holdout_split(data, holdout)
    grid = list(itertools.product(lrs, decays, seeds))
    runs = [replace(base, lr=lr, lr_final=None if decay == 1 else lr * decay, seed=seed) for lr, decay, seed in grid]
    if jobs == 1:
        results = (_train_quietly(run, split) for run in runs)
    else:
        pool = ProcessPoolExecutor(max_workers=jobs)
        results = pool.map(_train_quietly, runs, itertools.repeat(split))
    rows = []
    try:
        for (lr, decay, seed), result in zip(grid, results):  # in grid order, as each run finishes
            final = result.history[-1]
            row = {
                "lr": lr,
                "decay": decay,
                "seed": seed,
                "val_error": final["test_error"],  # the validation digits, held out of training
                "val_loss": final["test_loss"],
                "train_error": final["train_error"],
                "seconds": round(result.seconds, 1),
            }
            rows.append(row)
            log(
                f"lr {lr:g} decay {decay:g} seed {seed}: train error {100 * row['train_error']:.2f}%, "
                f"validation error {100 * row['val_error']:.2f}% (loss {row['val_loss']:.4e}), {row['seconds']}s"
            )
    finally:
        if jobs > 1:
            pool.shutdown(cancel_futures=True)
    return rows


def _train_quietly(run: RunConfig, split: dict):
    """One sweep run, no log lines or progress bar (a module-level function, so worker processes can run it)."""
    return train(run, split, log=lambda _line: None, progress=False)


def choose(rows: list[dict]) -> dict:
    """Mean over seeds per (lr, decay); the setting with the lowest validation error, then loss."""
    settings = {}
    for row in rows:
        settings.setdefault((row["lr"], row["decay"]), []).append(row)
    means = [
        {
            "lr": lr,
            "decay": decay,
            "seeds": len(group),
            "val_error": float(np.mean([r["val_error"] for r in group])),
            "val_loss": float(np.mean([r["val_loss"] for r in group])),
            "train_error": float(np.mean([r["train_error"] for r in group])),
        }
        for (lr, decay), group in settings.items()
    ]
    best = min(means, key=lambda m: (round(m["val_error"], 9), m["val_loss"]))
    return {"best": best, "settings": means}
