"""Train an MLP (or softmax regression) on MNIST or Fashion-MNIST, evaluate a checkpoint, rerun the README table.

    python -m mlp                                   # = train: MNIST, 784-256-256-10, 10 epochs
    python -m mlp train --dataset fashion --epochs 20
    python -m mlp train --softmax-regression --lr 0.01
    python -m mlp eval runs/02_mlp/train/checkpoint.npz
    python -m mlp repro [--only mnist] [--only softmax-mnist] ...
    python -m mlp bench                             # one training epoch, ours against PyTorch

Outputs go to --out (default runs/02_mlp/<command>/ under the current folder): a training run
writes curves.png, misclassified.png, weights.png, checkpoint.npz and results.json.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import time
from pathlib import Path

from shared.checks import check_memory
from shared.cli import (
    App,
    CLIError,
    bounded_int,
    header,
    non_negative_float,
    positive_float,
    positive_int,
    prepare_out,
    probability,
    wrote,
)
from shared.results import write_results

from . import bench, plots
from .checkpoint import load_checkpoint, save_checkpoint
from .data import CLASS_NAMES, DATASETS, load
from .train import MAX_WIDTH, SCHEDULES, TrainConfig, build_model, evaluate, fit, memory_needed

# The README's results table: one configuration per row (python -m mlp repro --only NAME).
REPRO = {
    "mnist": TrainConfig(dataset="mnist", hidden=(256, 256), epochs=20, lr=0.05, weight_decay=5e-4),
    "fashion": TrainConfig(dataset="fashion", hidden=(256, 256), epochs=20, lr=0.05, weight_decay=5e-4),
    "softmax-mnist": TrainConfig(dataset="mnist", hidden=(), epochs=10, lr=0.01),
    "softmax-fashion": TrainConfig(dataset="fashion", hidden=(), epochs=10, lr=0.01),
}

# The figures the README shows, copied from a repro row's outputs by `repro --assets`.
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
ASSETS = {"mnist": ("curves.png", "misclassified.png"), "softmax-mnist": ("curves.png", "weights.png")}


def run_name(config: TrainConfig) -> str:
    return f"{'mlp' if config.hidden else 'softmax'}-{config.dataset}"


def sizes_text(config: TrainConfig) -> str:
    return "-".join(str(size) for size in [784, *config.hidden, 10])


def check_fits(config: TrainConfig) -> None:
    """Refuse, before anything is allocated, a model or batch this machine cannot hold."""
    check_memory(memory_needed(config), f"training a {sizes_text(config)} MLP with batch size {config.batch_size}")


def train_and_report(config: TrainConfig, out: Path, progress: bool = True) -> dict:
    """Train `config`, write pictures and the checkpoint into `out`; return the metrics."""
    started = time.perf_counter()
    train_data = load(config.dataset, "train", config.limit)
    test_data = load(config.dataset, "test")
    model = build_model(config)
    print(
        f"{run_name(config)}: {sizes_text(config)}, {len(train_data[1])} training examples, "
        f"{sum(p.data.size for p in model.parameters())} parameters"
    )
    try:
        history = fit(model, config, train_data, test_data, progress=progress)
    except FloatingPointError as error:  # a diverging run: nothing is written
        raise CLIError(str(error)) from None
    test_loss, test_accuracy, predictions = evaluate(model, *test_data)
    names = CLASS_NAMES[config.dataset]
    plots.plot_history(out / "curves.png", history, f"{run_name(config)} ({sizes_text(config)})")
    plots.plot_misclassified(out / "misclassified.png", test_data[0], test_data[1], predictions, names)
    plots.plot_first_layer(out / "weights.png", model.layers[0].W.data, class_names=names)
    save_checkpoint(out / "checkpoint.npz", model, config)
    seconds = time.perf_counter() - started
    print(
        f"{run_name(config)}: test accuracy {test_accuracy:.4f} (error {1 - test_accuracy:.2%}) "
        f"after {config.epochs} epochs, {seconds:.1f}s"
    )
    return {
        "test_accuracy": test_accuracy,
        "test_error": 1.0 - test_accuracy,
        "test_loss": test_loss,
        "train_accuracy": history.train_accuracy[-1],
        "train_loss": history.train_loss[-1],
        "epochs": config.epochs,
        "seconds": round(seconds, 3),
    }


# --------------------------------------------------------------------------- commands


def cmd_train(args) -> int:
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
    check_fits(config)
    out = prepare_out(args)
    header(args, dataset=config.dataset, model=sizes_text(config), out=out)
    started = time.perf_counter()
    metrics = train_and_report(config, out, progress=not args.no_progress)
    metrics.pop("seconds")
    path = write_results(out, metrics, time.perf_counter() - started, config.seed)
    wrote(out / "checkpoint.npz", out / "curves.png", out / "misclassified.png", out / "weights.png", path)
    return 0


def cmd_eval(args) -> int:
    started = time.perf_counter()
    model, config = load_checkpoint(args.checkpoint)
    X, y = load(config.dataset, "test")
    out = prepare_out(args)
    header(args, checkpoint=args.checkpoint, model=sizes_text(config), out=out)
    test_loss, test_accuracy, predictions = evaluate(model, X, y)
    plots.plot_misclassified(out / "misclassified.png", X, y, predictions, CLASS_NAMES[config.dataset])
    print(
        f"{args.checkpoint}: {run_name(config)} test loss {test_loss:.4f}, test accuracy {test_accuracy:.4f} "
        f"(error {1 - test_accuracy:.2%})"
    )
    metrics = {"test_accuracy": test_accuracy, "test_error": 1.0 - test_accuracy, "test_loss": test_loss}
    path = write_results(out, metrics, time.perf_counter() - started, seed=None)
    wrote(out / "misclassified.png", path)
    return 0


def cmd_repro(args) -> int:
    names = list(dict.fromkeys(args.only or REPRO))  # README order when not given; no row twice
    configs = {name: dataclasses.replace(REPRO[name], seed=args.seed) for name in names}
    for config in configs.values():
        check_fits(config)
    if args.assets and not (ASSETS_DIR.parent / "README.md").is_file():
        raise CLIError(f"--assets writes into the source checkout's 02_mlp/assets, which is not at {ASSETS_DIR}")
    out = prepare_out(args)
    header(args, rows=" ".join(names), out=out)
    started = time.perf_counter()
    results = {
        name: train_and_report(config, out / name, progress=not args.no_progress) for name, config in configs.items()
    }
    print("\nconfiguration      test accuracy   seconds")
    for name, metrics in results.items():
        print(f"{name:<18} {metrics['test_accuracy']:.4f}          {metrics['seconds']:.1f}")
    path = write_results(out, results, time.perf_counter() - started, seed=args.seed)
    written = [out / name for name in names] + [path]
    if args.assets:
        ASSETS_DIR.mkdir(exist_ok=True)
        for name in names:
            for figure in ASSETS.get(name, ()):
                written.append(shutil.copyfile(out / name / figure, ASSETS_DIR / f"{name}-{figure}"))
    wrote(*written)
    return 0


# --------------------------------------------------------------------------- the command line

app = App("mlp", "02_mlp", __doc__, default="train")

train = app.command("train", cmd_train, help="train an MLP or softmax regression on MNIST or Fashion-MNIST")
defaults = TrainConfig()
train.add_argument("--dataset", choices=DATASETS, default=defaults.dataset, help="which data set (default: mnist)")
train.add_argument(
    "--hidden",
    type=bounded_int(1, MAX_WIDTH),
    nargs="*",
    default=list(defaults.hidden),
    metavar="UNITS",
    help="hidden layer sizes; none for softmax regression (default: 256 256)",
)
train.add_argument("--softmax-regression", action="store_true", help="no hidden layer (same as --hidden)")
train.add_argument("--activation", choices=("relu", "tanh", "sigmoid"), default=defaults.activation)
train.add_argument("--init", choices=("he", "xavier"), default=None, help="default: he for relu, xavier otherwise")
train.add_argument("--dropout", type=probability, default=defaults.dropout, help="after each hidden layer")
train.add_argument("--epochs", type=positive_int, default=defaults.epochs, help="passes over the training set")
train.add_argument("--batch-size", type=positive_int, default=defaults.batch_size, help="examples per SGD step")
train.add_argument("--lr", type=positive_float, default=defaults.lr, help="(peak) learning rate")
train.add_argument("--momentum", type=probability, default=defaults.momentum, help="SGD momentum, in [0, 1)")
train.add_argument("--weight-decay", type=non_negative_float, default=defaults.weight_decay, help="L2 penalty")
train.add_argument("--schedule", choices=SCHEDULES, default=defaults.schedule, help="learning rate over the run")
train.add_argument("--limit", type=positive_int, default=None, help="train on the first N examples only")
train.add_argument("--no-progress", action="store_true", help="no progress line")

evaluate_command = app.command("eval", cmd_eval, help="evaluate a saved checkpoint on its test set")
evaluate_command.add_argument("checkpoint", type=Path, help="a checkpoint.npz written by train or repro")

repro = app.command("repro", cmd_repro, help="rerun the README's results table", only=list(REPRO))
repro.add_argument("--no-progress", action="store_true", help="no progress line")
repro.add_argument("--assets", action="store_true", help="copy the README's figures into 02_mlp/assets/")

bench.add_arguments(app.command("bench", bench.run, help="time one training epoch, ours against PyTorch"))


def main(argv: list[str] | None = None) -> int:
    return app.main(argv)


if __name__ == "__main__":
    sys.exit(main())
