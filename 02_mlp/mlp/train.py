"""The training loop: configuration, minibatch SGD epochs, evaluation, and a full run.

One step on a minibatch (X_b, y_b), the whole of backpropagation for this project:

    optimizer.zero_grad()
    logits = model.forward(X_b)              # (B, 10)
    loss = loss_fn.forward(logits, y_b)      # scalar, mean over the batch
    model.backward(loss_fn.backward())       # fills every Parameter.grad
    optimizer.step()                         # p <- p - lr * v

What this module does not do: early stopping or model selection on the test set (the
number of epochs is fixed in advance, so the test accuracy is an honest estimate).
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from shared.checks import finite, integer
from shared.progress import Progress
from shared.seeding import make_rng

from .data import DATASETS, check_dataset, minibatches
from .layers import INITS, Module, Sequential, make_mlp
from .losses import CrossEntropyLoss
from .optim import SGD

__all__ = [
    "MAX_HIDDEN_LAYERS",
    "MAX_WIDTH",
    "History",
    "TrainConfig",
    "build_model",
    "evaluate",
    "fit",
    "lr_at",
    "memory_needed",
    "parameter_count",
    "train_epoch",
]

SCHEDULES = ("constant", "cosine")
MAX_HIDDEN_LAYERS = 100  # stated limits; the memory estimate (memory_needed) is the real guard
MAX_WIDTH = 1 << 20


@dataclass
class TrainConfig:
    """Everything that defines a run; `python -m mlp` flags map onto these fields."""

    dataset: str = "mnist"
    hidden: tuple[int, ...] = (256, 256)  # () is softmax regression
    activation: str = "relu"
    init: str | None = None  # None: He for ReLU, Xavier for tanh/sigmoid
    dropout: float = 0.0
    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "cosine"  # learning rate: constant, or cosine decay to 0 over the run
    seed: int = 0
    limit: int | None = None  # use only the first `limit` training examples

    def __post_init__(self):
        self.hidden = tuple(int(h) for h in self.hidden)
        # Written `not (x > 0)`-proof: every comparison with NaN is false, so each check below
        # fails for NaN, and the float ones also test finiteness (an infinite decay is no decay).
        checks = [
            (self.dataset in DATASETS, f"dataset must be one of {DATASETS}, got {self.dataset!r}"),
            (
                len(self.hidden) <= MAX_HIDDEN_LAYERS,
                f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(self.hidden)}",
            ),
            (
                all(1 <= h <= MAX_WIDTH for h in self.hidden),
                f"hidden sizes must be from 1 to {MAX_WIDTH}, got {list(self.hidden)}",
            ),
            (self.init is None or self.init in INITS, f"init must be one of {INITS}, got {self.init!r}"),
            (0.0 <= self.dropout < 1.0, f"dropout must be in [0, 1), got {self.dropout}"),
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.batch_size >= 1, f"batch size must be >= 1, got {self.batch_size}"),
            (math.isfinite(self.lr) and self.lr > 0, f"learning rate must be positive, got {self.lr}"),
            (0.0 <= self.momentum < 1.0, f"momentum must be in [0, 1), got {self.momentum}"),
            (
                math.isfinite(self.weight_decay) and self.weight_decay >= 0,
                f"weight decay must be >= 0, got {self.weight_decay}",
            ),
            (self.schedule in SCHEDULES, f"schedule must be one of {SCHEDULES}, got {self.schedule!r}"),
            (self.limit is None or self.limit >= 1, f"limit must be >= 1, got {self.limit}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    @classmethod
    def from_dict(cls, values, source: str = "the configuration") -> TrainConfig:
        """A config read from a file (a checkpoint's meta): every field's type checked before use.

        JSON can hold anything: `1e300` where an integer belongs, `true` for a width, a string
        for a rate. Each field is checked here, naming `source`, and then `__post_init__`
        checks the ranges.
        """
        if not isinstance(values, dict):
            raise ValueError(f"{source} must be a JSON object, not {type(values).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{source} has unknown fields {unknown}")
        checked = {}
        for name, value in values.items():
            if name == "hidden":
                if not isinstance(value, list) or len(value) > MAX_HIDDEN_LAYERS:
                    raise ValueError(f"hidden in {source} must be a list of at most {MAX_HIDDEN_LAYERS} sizes")
                value = tuple(integer(f"hidden[{i}]", h, source, 1, MAX_WIDTH) for i, h in enumerate(value))
            elif name in ("epochs", "batch_size"):
                value = integer(name, value, source, 1)
            elif name == "seed":
                value = integer(name, value, source, 0)
            elif name == "limit":
                value = None if value is None else integer(name, value, source, 1)
            elif name in ("dropout", "lr", "momentum", "weight_decay"):
                value = finite(name, value, source)
            elif not (isinstance(value, str) or (name == "init" and value is None)):
                raise ValueError(f"{name} in {source} must be a string, got {value!r}")
            checked[name] = value
        return cls(**checked)

    def to_dict(self) -> dict:
        return {**asdict(self), "hidden": list(self.hidden)}


@dataclass
class History:
    """Per-epoch metrics of a run (lists of equal length)."""

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def parameter_count(config: TrainConfig, in_features: int = 784, classes: int = 10) -> int:
    """Numbers in the model's W and b arrays, from the sizes alone (nothing is allocated)."""
    sizes = [in_features, *config.hidden, classes]
    return sum(fan_in * fan_out + fan_out for fan_in, fan_out in itertools.pairwise(sizes))


def memory_needed(config: TrainConfig, in_features: int = 784, classes: int = 10, examples: int = 70000) -> int:
    """A generous estimate of the bytes a run of `config` needs, to check BEFORE allocating.

    Parameters: five float32 copies (data, grad, momentum, the optimizer's scratch, and the
    x^T dy product before it is added into grad). Activations: about four (rows, width)
    float32 arrays per layer (outputs, masks, their gradients), for the larger of a training
    batch and an evaluation batch of 1000. Data: `examples` images as uint8 and as float32.
    """
    sizes = [in_features, *config.hidden, classes]
    rows = min(max(config.batch_size, 1000), examples)
    parameters = 5 * 4 * parameter_count(config, in_features, classes)
    activations = 4 * 4 * rows * sum(sizes)
    data = 5 * examples * in_features
    return parameters + activations + data


def build_model(config: TrainConfig, in_features: int = 784, classes: int = 10, dtype=np.float32) -> Sequential:
    """The MLP that `config` describes, initialised from `config.seed`."""
    return make_mlp(
        in_features,
        config.hidden,
        classes,
        activation=config.activation,
        dropout=config.dropout,
        init=config.init,
        rng=make_rng(config.seed),
        dtype=dtype,
    )


def lr_at(config: TrainConfig, step: int, total_steps: int) -> float:
    """Learning rate for `step` (0-based): constant, or cosine from lr down to 0 (Loshchilov & Hutter 2017)."""
    if config.schedule == "constant":
        return config.lr
    return 0.5 * config.lr * (1.0 + math.cos(math.pi * step / total_steps))


def train_epoch(
    model: Module,
    loss_fn: CrossEntropyLoss,
    optimizer: SGD,
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    rng: np.random.Generator,
    on_step=None,
) -> tuple[float, float]:
    """One pass over (X, y) in shuffled minibatches; returns (mean loss, accuracy) over the epoch.

    `on_step(step_in_epoch, loss)` is called before each update (the loop sets the learning
    rate and reports progress there). A non-finite loss stops training with FloatingPointError.
    """
    model.train()
    loss_sum, correct = 0.0, 0
    for step, (xb, yb) in enumerate(minibatches(X, y, batch_size, rng)):
        optimizer.zero_grad()
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is reported just below
            logits = model.forward(xb)  # (B, C)
            loss = loss_fn.forward(logits, yb)
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"the training loss became {loss} at step {step} of the epoch (a finite loss was expected); "
                f"the learning rate ({optimizer.lr:g}) is probably too high"
            )
        model.backward(loss_fn.backward())
        if on_step is not None:
            on_step(step, loss)
        optimizer.step()
        loss_sum += loss * len(yb)
        correct += int((logits.argmax(axis=1) == yb).sum())
    return loss_sum / len(y), correct / len(y)


def evaluate(model: Module, X: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> tuple[float, float, np.ndarray]:
    """(mean loss, accuracy, predicted classes (N,)) in eval mode; the model's mode is restored after."""
    was_training = model.training
    model.eval()
    loss_fn = CrossEntropyLoss()
    loss_sum, predictions = 0.0, np.empty(len(y), dtype=np.int64)
    try:
        for start in range(0, len(X), batch_size):
            logits = model.forward(X[start : start + batch_size])
            loss_sum += loss_fn.forward(logits, y[start : start + batch_size]) * len(logits)
            predictions[start : start + len(logits)] = logits.argmax(axis=1)
    finally:
        model.train(was_training)
    return loss_sum / len(y), float(np.mean(predictions == y)), predictions


def fit(
    model: Module,
    config: TrainConfig,
    train_data: tuple[np.ndarray, np.ndarray],
    test_data: tuple[np.ndarray, np.ndarray],
    log=print,
    progress: bool = True,
) -> History:
    """Train `model` for `config.epochs` epochs, evaluating on `test_data` after each; returns the History."""
    X, y = train_data
    X_test, y_test = test_data
    in_features = model.parameters()[0].shape[0]
    classes = model.parameters()[-1].shape[0]
    check_dataset(X, y, in_features, classes, "training data")
    check_dataset(X_test, y_test, in_features, classes, "test data")
    if config.batch_size > len(y):  # allowed (full-batch gradient descent, and --limit runs), but said
        log(f"note: batch size {config.batch_size} is more than the {len(y)} training examples: one batch per epoch")
    rng = make_rng(config.seed + 1)  # shuffling: its own stream, independent of the initialisation
    loss_fn = CrossEntropyLoss()
    optimizer = SGD(model.parameters(), config.lr, config.momentum, config.weight_decay)
    steps_per_epoch = -(-len(X) // config.batch_size)
    total_steps = config.epochs * steps_per_epoch
    history = History()
    bar = Progress(total_steps, "train", unit="step") if progress else None
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        first_step = (epoch - 1) * steps_per_epoch

        def on_step(step: int, loss: float, first_step=first_step) -> None:
            optimizer.lr = lr_at(config, first_step + step, total_steps)
            if bar is not None:
                bar.update(first_step + step + 1, loss=loss)

        train_loss, train_acc = train_epoch(model, loss_fn, optimizer, X, y, config.batch_size, rng, on_step)
        seconds = time.perf_counter() - started
        test_loss, test_acc, _ = evaluate(model, X_test, y_test)
        history.train_loss.append(train_loss)
        history.train_accuracy.append(train_acc)
        history.test_loss.append(test_loss)
        history.test_accuracy.append(test_acc)
        history.seconds.append(seconds)
        message = (
            f"epoch {epoch:3d}/{config.epochs} | train loss {train_loss:.4f} | train acc {train_acc:.4f} | "
            f"test acc {test_acc:.4f} | {seconds:.1f}s"
        )
        if bar is not None and bar.interactive:
            bar.write(message)  # clears the progress line first
        else:
            log(message)
    if bar is not None:
        bar.close()
    return history
