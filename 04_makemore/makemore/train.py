"""Training, evaluation and sampling for the neural models (checkpoints: `checkpoint.py`).

The loop is lecture 2's: sample a minibatch of (context, next character) pairs, forward,
cross-entropy, hand-written backward, SGD with a step decay. The recurrent models use
makemore.py's recipe instead (whole padded names, AdamW). Dev loss is printed at
intervals; the final numbers are the mean loss over every character of every name in
each split, with BatchNorm in eval mode (running statistics).

Not here: early stopping, learning-rate warmup, multi-process data loading.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from shared.checks import check_memory
from shared.progress import Progress
from shared.seeding import make_rng

from .data import Split, build_dataset, build_sequences, decode
from .models import ModelConfig
from .optim import SGD, AdamW, step_schedule

__all__ = [
    "RECIPES",
    "Recipe",
    "check_batch",
    "evaluate",
    "make_datasets",
    "sample_names",
    "seed_spread",
    "seed_spread_line",
    "train_model",
    "with_overrides",
]


@dataclass(frozen=True)
class Recipe:
    """How a model is trained: the lecture's settings are the defaults."""

    max_steps: int = 200_000
    batch_size: int = 32
    lr: float = 0.1
    decay_at: float = 0.5  # fraction of max_steps after which lr drops 10x
    optimizer: str = "sgd"  # "sgd" or "adamw"
    weight_decay: float = 0.0
    eval_every: int = 10_000

    def check(self) -> None:
        if self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {self.max_steps}")
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be >= 2 (BatchNorm needs a batch), got {self.batch_size}")
        if not (self.lr > 0 and np.isfinite(self.lr)):
            raise ValueError(f"lr must be a positive number, got {self.lr}")
        if not 0.0 <= self.decay_at <= 1.0:
            raise ValueError(f"decay_at must be in [0, 1], got {self.decay_at}")
        if self.optimizer not in ("sgd", "adamw"):
            raise ValueError(f"optimizer must be 'sgd' or 'adamw', got {self.optimizer!r}")
        if self.eval_every < 1:
            raise ValueError(f"eval_every must be >= 1, got {self.eval_every}")


RECIPES = {
    # lecture 2: 200k steps, batch 32, lr 0.1 then 0.01 after 100k
    "mlp": Recipe(),
    "mlp-bn": Recipe(),
    "mlp-deep": Recipe(),
    # lecture 5: lr 0.1 then 0.01 at 150k
    "wavenet": Recipe(decay_at=0.75),
    # makemore.py: AdamW lr 5e-4, weight decay 0.01, batch 32 (it trains until stopped; we stop at 30k)
    "rnn": Recipe(max_steps=30_000, lr=5e-4, decay_at=1.0, optimizer="adamw", weight_decay=0.01, eval_every=5_000),
    "gru": Recipe(max_steps=30_000, lr=5e-4, decay_at=1.0, optimizer="adamw", weight_decay=0.01, eval_every=5_000),
}


def make_datasets(split: Split, config: ModelConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(X, Y) per split: context windows for window models, padded names for recurrent ones."""
    if config.model in ("rnn", "gru"):
        return {name: build_sequences(split[name], config.block_size) for name in ("train", "dev", "test")}
    return {name: build_dataset(split[name], config.block_size) for name in ("train", "dev", "test")}


def evaluate(model, X: np.ndarray, Y: np.ndarray, chunk: int = 4096) -> float:
    """Mean per-character loss over the whole (X, Y), in eval mode; the model's mode is restored."""
    was_training = getattr(model, "training", True)
    model.eval()
    total, count = 0.0, 0
    try:
        for i in range(0, len(X), chunk):
            Yc = Y[i : i + chunk]
            loss, _ = model.loss(X[i : i + chunk], Yc)
            n = int((Yc != -1).sum()) if model.recurrent else len(Yc)
            total += loss * n
            count += n
    finally:
        model.train(was_training)
    if count == 0:  # a mean over nothing is not a loss of 0
        raise ValueError("cannot evaluate on an empty split")
    return total / count


def step_bytes(config: ModelConfig, batch_size: int) -> int:
    """A rough upper estimate of the memory one training step needs for `batch_size` examples.

    Per example and position: the embedding, its gradient and the embedding backward's one-hot
    row, and about eight float32 arrays of the hidden width (activations, caches, gradients).
    """
    per_example = config.block_size * (2 * config.n_embd + config.vocab_size + 8 * config.n_hidden)
    return 4 * batch_size * (per_example + 4 * config.vocab_size)


def check_batch(config: ModelConfig, batch_size: int, examples: int) -> None:
    """Refuse a batch larger than the training set, or one that would not fit in memory, before training."""
    if batch_size > examples:
        raise ValueError(
            f"--batch-size {batch_size:,} is larger than the {examples:,} training examples; choose at most that"
        )
    check_memory(step_bytes(config, batch_size), f"a training step with --batch-size {batch_size:,}")


def seed_spread(values: list[float]) -> dict:
    """Mean, std over runs (Bessel-corrected; 0 for a single run), min and max of per-seed losses."""
    spread = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(np.mean(values)), "std": spread, "min": min(values), "max": max(values)}


def seed_spread_line(model: str, dev_losses: list[float]) -> str:
    """The one-line summary the `seeds` and `reference` commands print for several seeds' dev losses."""
    dev, n = seed_spread(dev_losses), len(dev_losses)
    return (
        f"{model} dev loss over {n} seeds: mean {dev['mean']:.4f} (std {dev['std']:.4f}, standard error "
        f"{dev['std'] / np.sqrt(n):.4f}), min {dev['min']:.4f}, max {dev['max']:.4f}"
    )


def train_model(
    model,
    data: dict[str, tuple[np.ndarray, np.ndarray]],
    recipe: Recipe,
    rng=None,
    description: str = "train",
    on_step=None,
    lr_at=None,
) -> dict:
    """Train in place; returns the per-step training losses and the (step, dev loss) evaluations.

    `on_step(step, model)` is called after each backward, before the update (for diagnostics);
    `lr_at(step)` overrides the recipe's schedule (the learning-rate finder uses it).
    """
    recipe.check()
    rng = make_rng(rng)
    Xtr, Ytr = data["train"]
    if len(Xtr) == 0:
        raise ValueError("the training split is empty")
    check_batch(model.config, recipe.batch_size, len(Xtr))
    params, grads = model.parameters(), model.gradients()
    if recipe.optimizer == "sgd":
        optimizer = SGD(params, grads)
    else:
        optimizer = AdamW(params, grads, weight_decay=recipe.weight_decay)
    decay_step = int(recipe.decay_at * recipe.max_steps)
    losses = np.zeros(recipe.max_steps, np.float32)
    evals: list[tuple[int, float]] = []
    model.train()
    progress = Progress(recipe.max_steps, description)
    started = time.perf_counter()
    for step in range(recipe.max_steps):
        ix = rng.integers(0, len(Xtr), recipe.batch_size)  # (B,)
        loss, dlogits = model.loss(Xtr[ix], Ytr[ix])
        if not np.isfinite(loss):  # stop at once: nothing trained on NaN is saved
            progress.close()
            raise ValueError(
                f"training diverged: the loss became {loss} at step {step}; lower the learning rate (--lr)"
            )
        model.zero_grad()  # backward accumulates (the layers' contract)
        model.backward(dlogits)
        if on_step is not None:
            on_step(step, model)
        lr = lr_at(step) if lr_at is not None else step_schedule(recipe.lr, step, decay_step)
        optimizer.step(lr)
        losses[step] = loss
        last = step == recipe.max_steps - 1
        if "dev" in data and ((step + 1) % recipe.eval_every == 0 or last):
            dev = evaluate(model, *data["dev"])
            evals.append((step + 1, dev))
            progress.write(
                f"{description} step {step + 1}: train loss (batch) {loss:.4f} | dev loss {dev:.4f} | lr {lr:g}"
            )
        if step % 200 == 0 or last:
            progress.update(step + 1, loss=float(loss))
    progress.close()
    return {"losses": losses, "evals": evals, "seconds": time.perf_counter() - started}


def _softmax_rows(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _draw(probs: np.ndarray, rng) -> np.ndarray:
    """One index per row of `probs` (B, V), by inverting the cumulative distribution."""
    u = rng.random((probs.shape[0], 1))
    return np.minimum((np.cumsum(probs, axis=1) < u).sum(axis=1), probs.shape[1] - 1)


def sample_names(model, count: int = 20, rng=None, max_length: int = 30) -> list[str]:
    """`count` names, generated one character at a time for all of them at once, in eval mode."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    rng = make_rng(rng)
    was_training = getattr(model, "training", True)
    model.eval()
    out = np.zeros((count, max_length), np.int64)
    try:
        if model.recurrent:
            h = np.broadcast_to(model.start, (count, model.config.n_hidden))
            x = np.zeros(count, np.int64)
            for t in range(max_length):
                logits, h = model.step(x, h)
                x = _draw(_softmax_rows(logits), rng)
                out[:, t] = x
        else:
            context = np.zeros((count, model.config.block_size), np.int64)
            for t in range(max_length):
                x = _draw(_softmax_rows(model.forward(context)), rng)
                out[:, t] = x
                context = np.concatenate([context[:, 1:], x[:, None]], axis=1)
    finally:
        model.train(was_training)
    return [decode(row) for row in out]


def with_overrides(recipe: Recipe, **overrides) -> Recipe:
    """The recipe with the given fields replaced (None leaves a field alone)."""
    return replace(recipe, **{k: v for k, v in overrides.items() if v is not None})
