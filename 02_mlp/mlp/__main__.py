"""Command line: train an MLP (or softmax regression) on MNIST / Fashion-MNIST, evaluate, reproduce.

    python -m mlp                                   # MNIST, 784-256-256-10, 10 epochs
    python -m mlp --dataset fashion --epochs 20
    python -m mlp --softmax-regression              # no hidden layer
    python -m mlp --eval runs/mlp-mnist/checkpoint.npz
    python -m mlp repro [--only mnist fashion softmax-mnist softmax-fashion]

A training run prints one line per epoch (train loss, train accuracy, test accuracy,
seconds) and writes to --out (default runs/<name>/): curves.png, misclassified.png,
weights.png, checkpoint.npz and results.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from shared.data import DataError
from shared.results import output_dir, write_results

from . import plots
from .checkpoint import CheckpointError, load_parameters, read_checkpoint, save_checkpoint
from .data import CLASS_NAMES, DATASETS, PIXEL_STATS, load
from .train import SCHEDULES, TrainConfig, build_model, evaluate, fit

CHECKPOINT_FORMAT = "mlp-checkpoint-1"

# The README's results table: one configuration per row (python -m mlp repro --only NAME).
REPRO = {
    "mnist": TrainConfig(dataset="mnist", hidden=(256, 256), epochs=20, lr=0.05, weight_decay=5e-4),
    "fashion": TrainConfig(dataset="fashion", hidden=(256, 256), epochs=20, lr=0.05, weight_decay=5e-4),
    "softmax-mnist": TrainConfig(dataset="mnist", hidden=(), epochs=10, lr=0.01),
    "softmax-fashion": TrainConfig(dataset="fashion", hidden=(), epochs=10, lr=0.01),
}


def run_name(config: TrainConfig) -> str:
    return f"{'mlp' if config.hidden else 'softmax'}-{config.dataset}"


def train_and_report(config: TrainConfig, out: Path, progress: bool = True) -> dict:
    """Train `config`, write pictures, checkpoint and results.json into `out`; return the metrics."""
    started = time.perf_counter()
    train_data = load(config.dataset, "train", config.limit)
    test_data = load(config.dataset, "test")
    model = build_model(config)
    sizes = "-".join(str(s) for s in [784, *config.hidden, 10])
    print(
        f"{run_name(config)}: {sizes}, {len(train_data[1])} training examples, "
        f"{sum(p.data.size for p in model.parameters())} parameters"
    )
    history = fit(model, config, train_data, test_data, progress=progress)
    test_loss, test_accuracy, predictions = evaluate(model, *test_data)
    names = CLASS_NAMES[config.dataset]
    plots.plot_history(out / "curves.png", history, f"{run_name(config)} ({sizes})")
    plots.plot_misclassified(out / "misclassified.png", test_data[0], test_data[1], predictions, names)
    plots.plot_first_layer(out / "weights.png", model.layers[0].W.data, class_names=names)
    meta = {"format": CHECKPOINT_FORMAT, "config": config.to_dict(), "pixel_stats": PIXEL_STATS[config.dataset]}
    save_checkpoint(out / "checkpoint.npz", model, meta)
    seconds = time.perf_counter() - started
    metrics = {
        "test_accuracy": test_accuracy,
        "test_error": 1.0 - test_accuracy,
        "test_loss": test_loss,
        "train_accuracy": history.train_accuracy[-1],
        "train_loss": history.train_loss[-1],
        "epochs": config.epochs,
        "seconds": round(seconds, 3),
    }
    print(
        f"{run_name(config)}: test accuracy {test_accuracy:.4f} (error {1 - test_accuracy:.2%}) "
        f"after {config.epochs} epochs, {seconds:.1f}s; outputs in {out}"
    )
    return metrics


def evaluate_checkpoint(path: Path, out: Path) -> dict:
    """Rebuild the model a checkpoint describes, load it, and evaluate it on its test set."""
    arrays, meta = read_checkpoint(path)
    if meta.get("format") != CHECKPOINT_FORMAT or not isinstance(meta.get("config"), dict):
        raise CheckpointError(f"{path}: expected a '{CHECKPOINT_FORMAT}' checkpoint, got format {meta.get('format')!r}")
    try:
        config = TrainConfig(**meta["config"])
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: its configuration is invalid ({error})") from None
    model = build_model(config)
    load_parameters(model, arrays, source=str(path))
    X, y = load(config.dataset, "test")
    test_loss, test_accuracy, predictions = evaluate(model, X, y)
    plots.plot_misclassified(out / "misclassified.png", X, y, predictions, CLASS_NAMES[config.dataset])
    print(
        f"{path}: {run_name(config)} test loss {test_loss:.4f}, test accuracy {test_accuracy:.4f} "
        f"(error {1 - test_accuracy:.2%})"
    )
    return {"test_accuracy": test_accuracy, "test_error": 1.0 - test_accuracy, "test_loss": test_loss}


def train_parser() -> argparse.ArgumentParser:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(
        prog="python -m mlp",
        description="Train a multilayer perceptron on MNIST or Fashion-MNIST (NumPy, hand-derived backprop). "
        "`python -m mlp repro` reruns the README's results table.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--dataset", choices=DATASETS, default=defaults.dataset, help="which data set")
    parser.add_argument(
        "--hidden",
        type=int,
        nargs="*",
        default=list(defaults.hidden),
        metavar="UNITS",
        help="hidden layer sizes; none for softmax regression",
    )
    parser.add_argument("--softmax-regression", action="store_true", help="no hidden layer (same as --hidden)")
    parser.add_argument(
        "--activation", choices=("relu", "tanh", "sigmoid"), default=defaults.activation, help="of the hidden units"
    )
    parser.add_argument(
        "--init",
        choices=("he", "xavier"),
        default=None,
        help="weight initialisation (None: he for relu, xavier otherwise)",
    )
    parser.add_argument("--dropout", type=float, default=defaults.dropout, help="dropout after each hidden layer")
    parser.add_argument("--epochs", type=int, default=defaults.epochs, help="passes over the training set")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size, help="examples per SGD step")
    parser.add_argument("--lr", type=float, default=defaults.lr, help="(peak) learning rate")
    parser.add_argument("--momentum", type=float, default=defaults.momentum, help="SGD momentum")
    parser.add_argument("--weight-decay", type=float, default=defaults.weight_decay, help="L2 penalty")
    parser.add_argument(
        "--schedule", choices=SCHEDULES, default=defaults.schedule, help="learning rate schedule over the run"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="initialisation, shuffling, dropout")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N examples only")
    parser.add_argument(
        "--eval",
        type=Path,
        default=None,
        metavar="CHECKPOINT",
        help="evaluate a saved checkpoint on its test set instead of training",
    )
    parser.add_argument("--out", type=Path, default=None, help="output folder (default runs/<name>/)")
    parser.add_argument("--no-progress", action="store_true", help="no progress line")
    return parser


def repro_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mlp repro", description="Rerun the README's results table.")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(REPRO),
        default=None,
        metavar="NAME",
        help=f"configurations to run: {', '.join(REPRO)} (default: all)",
    )
    parser.add_argument("--out", type=Path, default=None, help="output folder (default runs/repro/)")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def main_train(argv: list[str]) -> int:
    args = train_parser().parse_args(argv)
    started = time.perf_counter()
    if args.eval is not None:
        out = output_dir(args.out, "eval")
        metrics = evaluate_checkpoint(args.eval, out)
        write_results(out, metrics, time.perf_counter() - started, seed=None)
        return 0
    config = TrainConfig(
        dataset=args.dataset,
        hidden=() if args.softmax_regression else tuple(args.hidden),
        activation=args.activation,
        init=args.init,
        dropout=args.dropout,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        seed=args.seed,
        limit=args.limit,
    )
    out = output_dir(args.out, run_name(config))
    metrics = train_and_report(config, out, progress=not args.no_progress)
    metrics.pop("seconds")
    write_results(out, metrics, time.perf_counter() - started, config.seed)
    return 0


def main_repro(argv: list[str]) -> int:
    args = repro_parser().parse_args(argv)
    out = output_dir(args.out, "repro")
    started = time.perf_counter()
    results = {}
    for name in args.only or list(REPRO):
        results[name] = train_and_report(REPRO[name], out / name, progress=not args.no_progress)
    print("\nconfiguration      test accuracy   seconds")
    for name, metrics in results.items():
        print(f"{name:<18} {metrics['test_accuracy']:.4f}          {metrics['seconds']:.1f}")
    path = write_results(out, results, time.perf_counter() - started, seed=REPRO[next(iter(results))].seed)
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv and argv[0] == "repro":
            return main_repro(argv[1:])
        return main_train(argv)
    except (ValueError, DataError, FloatingPointError) as error:  # CheckpointError is a ValueError
        print(f"python -m mlp: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
