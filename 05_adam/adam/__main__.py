"""Command line: python -m adam <command> [options].

    python -m adam                      the demo (what `nox -s demo -- 05_adam` runs): toy, then a 1-epoch fig1
    python -m adam fig1                 Section 6.1: logistic regression on MNIST (Figure 1)
    python -m adam fig2                 Section 6.2: MLP with dropout on MNIST (Figure 2)
    python -m adam bias-correction      Section 6.4 in small form (Figure 4)
    python -m adam toy                  every optimizer on Rosenbrock and a noisy quadratic
    python -m adam sweep fig1|fig2      the step-size sweep behind the tuned settings
    python -m adam repro                fig1 and fig2 at the README's settings, plus results.json
    python -m adam bench                one optimizer step over 10M parameters, ours next to torch.optim

Each writes its PNG and CSV files under --out (default runs/05_adam/<command>/) and prints where.
"""

from __future__ import annotations

import argparse
import inspect
import math
import sys
import time
from pathlib import Path

from shared import checks
from shared.cli import (
    App,
    CLIError,
    bounded_int,
    header,
    non_negative_float,
    positive_float,
    prepare_out,
    probability,
    wrote,
)

# Settings of `repro` (the README's results table); the figure commands' defaults are smaller.
REPRO = {
    "fig1": {"epochs": 10, "train_size": None},
    "fig2": {"epochs": 5, "train_size": 20000},
}
FIG1_NAMES = ("adam", "adagrad", "sgd_nesterov")  # the keys of experiments.FIG1_METHODS
FIG2_NAMES = ("adam", "adagrad", "rmsprop", "sgd_nesterov", "adadelta")  # experiments.FIG2_METHODS
MNIST_TRAIN = 60000  # images in MNIST's training set: the largest --train-size
MAX_EPOCHS = 1000
MAX_STEPS = 100_000  # toy: every step is kept for the plot and the CSV
MAX_BUDGET = 1_000_000  # bias-correction iterations

# What `--set METHOD.ARGUMENT=VALUE` accepts for each optimizer argument, checked before anything runs.
# Stricter than the optimizers themselves (which follow torch.optim and accept eps = 0, for example):
# eps = 0 divides 0 by 0 wherever a gradient coordinate has been zero since the start, as MNIST's border
# pixels are, and a momentum or decay rate of 1 never forgets.
RULES = {
    "eps": ("a number > 0", checks.positive),
    "betas": ("two numbers in [0, 1), e.g. 0.9,0.999", checks.probability),
    "momentum": ("a number in [0, 1)", checks.probability),
    "dampening": ("a number in [0, 1)", checks.probability),
    "alpha": ("a number in [0, 1)", checks.probability),
    "rho": ("a number in [0, 1)", checks.probability),
    "weight_decay": ("a number >= 0", checks.non_negative),
    "lr_decay": ("a number >= 0", checks.non_negative),
    "initial_accumulator_value": ("a number >= 0", checks.non_negative),
}
SWITCHES = ("nesterov", "amsgrad", "efficient", "bias_correction", "centered")  # 0 or 1


# --------------------------------------------------------------------------- --lr and --set


def _name_value(text: str) -> tuple[str, float]:
    """--lr NAME=VALUE: a method name and a step size > 0."""
    name, sep, value = text.partition("=")
    if not (sep and name):
        raise argparse.ArgumentTypeError(f"takes NAME=VALUE (e.g. adam=0.001), got {text!r}")
    return name, positive_float(value)


def _setting(text: str) -> tuple[str, str, tuple[float, ...]]:
    """--set METHOD.ARGUMENT=VALUE[,VALUE]: finite numbers; which arguments and ranges is checked later."""
    target, sep, value = text.partition("=")
    name, dot, key = target.partition(".")
    if not (sep and dot and name and key and value):
        raise argparse.ArgumentTypeError(f"takes METHOD.ARGUMENT=VALUE (e.g. adam.betas=0.9,0.99), got {text!r}")
    try:
        numbers = tuple(float(v) for v in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: {value!r} is not a number (or numbers joined by commas)") from None
    if not all(math.isfinite(n) for n in numbers):
        raise argparse.ArgumentTypeError(f"{text!r}: NaN and infinity are not allowed")
    return name, key, numbers


def _check_setting(method, name: str, key: str, numbers: tuple[float, ...]):
    """One --set value, checked against what the method's optimizer takes and the ranges in RULES."""
    from .optim import OPTIMIZERS

    where = f"--set {name}.{key}"
    arguments = [a for a in inspect.signature(OPTIMIZERS[method.optimizer]).parameters if a not in ("params",)]
    if key == "lr":
        raise CLIError(f"{where}: give step sizes with --lr {name}=VALUE")
    if key not in arguments:
        known = ", ".join(a for a in arguments if a != "lr")
        raise CLIError(f"{where}: {method.optimizer} has no argument {key!r}; it takes {known}")
    if key in SWITCHES:
        if numbers not in ((0.0,), (1.0,)):
            raise CLIError(f"{where} must be 0 or 1, got {','.join(f'{n:g}' for n in numbers)}")
        return bool(numbers[0])
    what, check = RULES[key]
    if len(numbers) != (2 if key == "betas" else 1):
        raise CLIError(f"{where} must be {what}, got {len(numbers)} numbers")
    values = tuple(check(where, n) for n in numbers)
    return values if key == "betas" else values[0]


def _methods(figure: str, only, lrs, settings) -> dict:
    """The figure's methods, restricted by --only and changed by --lr/--set, each checked by building it."""
    import numpy as np

    from .experiments import FIG1_METHODS, FIG2_METHODS, Method
    from .nn import Parameter

    base = FIG1_METHODS if figure == "fig1" else FIG2_METHODS
    unknown = sorted({n for n in only or []} - set(base))
    if unknown:
        raise CLIError(f"--only names methods {figure} does not run: {unknown}; choose from {sorted(base)}")
    methods = {name: base[name] for name in only} if only else dict(base)
    lrs, settings = list(lrs or []), list(settings or [])
    unknown = sorted(({n for n, _ in lrs} | {n for n, _, _ in settings}) - set(methods))
    if unknown:
        raise CLIError(f"--lr/--set name methods this run does not have: {unknown}; choose from {sorted(methods)}")
    out = {}
    for name, method in methods.items():
        extra = {key: _check_setting(method, n, key, numbers) for n, key, numbers in settings if n == name}
        lr = dict(lrs).get(name, method.lr)
        out[name] = Method(method.label, method.optimizer, lr, {**method.settings, **extra})
        try:
            out[name].build([Parameter(np.zeros(1))])  # the optimizer's own checks (e.g. Nesterov needs momentum)
        except ValueError as error:
            raise CLIError(f"{name}: {error}") from None
    return out


# --------------------------------------------------------------------------- commands


def summarize(figure: str, curves: dict, methods: dict) -> dict:
    """Print the final training cost per method and whether Adam is at least as good as the best other one."""
    final = {name: curve["cost"][-1] for name, curve in curves.items()}
    epochs = {name: curve["epoch"][-1] for name, curve in curves.items()}
    print(f"{figure}: training cost after {max(epochs.values()):g} epochs")
    for name, cost in sorted(final.items(), key=lambda item: item[1]):
        print(f"  {methods[name].label:12s} lr {methods[name].lr:<8g} {cost:.5f}")
    metrics = {name: {"train_cost": float(cost), "lr": methods[name].lr} for name, cost in final.items()}
    others = [cost for name, cost in final.items() if name != "adam"]
    if "adam" in final and others:
        best = min(others)
        verdict = final["adam"] <= best
        print(f"  Adam {'is' if verdict else 'is NOT'} at least as low as the best other method ({best:.5f})")
        metrics["adam_at_least_as_low_as_best_other"] = bool(verdict)
    return metrics


def run_figure(figure: str, out: Path, methods: dict, seed: int, epochs: int, train_size: int | None,
               l2: float = 1e-4, dropout: float = 0.5, assets: str | None = None) -> dict:  # fmt: skip
    """Train the figure's methods, write its PNG and CSV into `out`, print and return the final costs."""
    import numpy as np

    from . import experiments as ex
    from .figures import ASSET_DPI, curves_to_rows, plot_costs, write_csv

    x, y = ex.load_mnist_flat("train", train_size, seed=seed)
    # A run that diverges stops with one clear message (experiments.DivergedError), not NumPy's warnings first.
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if figure == "fig1":
            curves = ex.run_fig1(x, y, epochs=epochs, l2=l2, seed=seed, methods=methods)
        else:
            curves = ex.run_fig2(x, y, epochs=epochs, dropout=dropout, seed=seed, methods=methods)
    if figure == "fig1":
        title = f"Logistic regression, MNIST ({len(x)} images), alpha/sqrt(t)"
    else:
        title = f"MLP 1000-1000 + dropout, MNIST ({len(x)} images)"
    labels = {name: m.label for name, m in methods.items()}
    wrote(plot_costs(out / f"{figure}.png", curves, labels, title))
    if assets:
        wrote(plot_costs(Path(assets) / f"{figure}.png", curves, labels, title, dpi=ASSET_DPI))
    wrote(write_csv(out / f"{figure}.csv", curves_to_rows(curves, labels)))
    metrics = summarize(figure, curves, methods)
    metrics["epochs"] = epochs
    metrics["train_size"] = len(x)
    return metrics


def cmd_fig(args) -> None:
    methods = _methods(args.command, args.only, args.lr, args.set)
    out = prepare_out(args)
    header(args, epochs=args.epochs, out=out)
    start = time.perf_counter()
    extra = {"l2": args.l2} if args.command == "fig1" else {"dropout": args.dropout}
    run_figure(args.command, out, methods, args.seed, args.epochs, args.train_size, **extra)
    print(f"{args.command} took {time.perf_counter() - start:.1f}s")


def cmd_bias_correction(args) -> None:
    from . import experiments as ex
    from .figures import plot_bias_correction, write_csv

    out = prepare_out(args)
    header(args, budgets=" ".join(map(str, args.budgets)), out=out)
    start = time.perf_counter()
    x, _ = ex.load_mnist_flat("train", args.train_size, seed=args.seed)
    rows = ex.run_bias_correction(x, budgets=args.budgets, lrs=args.lrs, seed=args.seed)
    wrote(plot_bias_correction(out / "bias_correction.png", rows))
    wrote(write_csv(out / "bias_correction.csv", rows))
    print("best loss per (beta1, beta2), with / without bias correction, at the largest budget:")
    last = max(args.budgets)
    for beta1 in sorted({r["beta1"] for r in rows}):
        for beta2 in sorted({r["beta2"] for r in rows}):
            best = {}
            for corrected in (True, False):
                cell = [r for r in rows if (r["beta1"], r["beta2"], r["bias_correction"], r["iterations"])
                        == (beta1, beta2, corrected, last)]  # fmt: skip
                top = min(cell, key=lambda r: r["loss"])
                best[corrected] = f"{top['loss']:.2f} (lr {top['lr']:g})"
            print(f"  beta1 {beta1:<4g} beta2 {beta2:<7g} with {best[True]:>18s}   without {best[False]:>18s}")
    print(f"bias-correction took {time.perf_counter() - start:.1f}s")


def run_toy(out: Path, steps: int, seed: int, assets: str | None = None) -> None:
    from .figures import ASSET_DPI, plot_toy, write_csv
    from .toy import TOY_SETTINGS, noisy_quadratic, rosenbrock, trajectory

    paths, rows = {}, []
    for function, settings in TOY_SETTINGS.items():
        paths[function] = {}
        for name in settings:
            points = trajectory(function, name, steps=steps, seed=seed)
            paths[function][name] = points
            f = rosenbrock if function == "rosenbrock" else noisy_quadratic
            rows += [{"function": function, "optimizer": name, "step": t, "x": p[0], "y": p[1], "f": f(p)[0]}
                     for t, p in enumerate(points)]  # fmt: skip
            print(f"{function:16s} {name:13s} final f {f(points[-1])[0]:.4g} at ({points[-1][0]:.3f}, "
                  f"{points[-1][1]:.3f})")  # fmt: skip
    wrote(plot_toy(out / "toy.png", paths))
    if assets:
        wrote(plot_toy(Path(assets) / "toy.png", paths, dpi=ASSET_DPI))
    wrote(write_csv(out / "toy.csv", rows))


def _check_assets(args) -> None:
    """--assets DIR must be a folder (or one that can be made): checked before the run, not after it."""
    if not args.assets:
        return
    if Path(args.assets).exists() and not Path(args.assets).is_dir():
        raise CLIError(f"--assets {args.assets} is a file, not a folder")
    try:
        Path(args.assets).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CLIError(f"cannot create the --assets folder {args.assets}: {error.strerror or error}") from None


def cmd_toy(args) -> None:
    _check_assets(args)
    out = prepare_out(args)
    header(args, steps=args.steps, out=out)
    run_toy(out, args.steps, args.seed, args.assets)


def cmd_sweep(args) -> None:
    from . import experiments as ex
    from .figures import write_csv

    names = FIG1_NAMES if args.figure == "fig1" else FIG2_NAMES
    unknown = sorted(set(args.only or []) - set(names))
    if unknown:
        raise CLIError(f"--only names methods {args.figure} does not run: {unknown}; choose from {sorted(names)}")
    settings = {}
    base = ex.FIG1_METHODS if args.figure == "fig1" else ex.FIG2_METHODS
    for name, key, numbers in args.set or []:
        if name not in (args.only or names):
            raise CLIError(f"--set names a method this sweep does not run: {name!r}")
        settings.setdefault(name, {})[key] = _check_setting(base[name], name, key, numbers)
    defaults = {"fig1": (5, None), "fig2": (3, 10000)}[args.figure]
    epochs, train_size = args.epochs or defaults[0], args.train_size or defaults[1]
    if args.out is None:  # one folder per figure, so sweeping fig2 after fig1 needs no --force
        args.out = str(Path("runs") / args.folder / "sweep" / args.figure)
    out = prepare_out(args)
    header(args, figure=args.figure, epochs=epochs, out=out)
    start = time.perf_counter()
    x, y = ex.load_mnist_flat("train", train_size, seed=args.seed)
    grids = None
    if args.lrs:
        grids = {args.figure: {name: args.lrs for name in args.only or list(ex.SWEEP_GRIDS[args.figure])}}
    table = ex.sweep(args.figure, x, y, epochs=epochs, seed=args.seed, grids=grids, only=args.only, settings=settings)
    rows = [
        {"method": name, "lr": lr, "train_cost": cost} for name, costs in table.items() for lr, cost in costs.items()
    ]
    wrote(write_csv(out / f"sweep_{args.figure}.csv", rows))
    for name, costs in table.items():
        best = min(costs, key=costs.get)
        print(f"best {name:13s} lr {best:g} (final training cost {costs[best]:.5f})")
    print(f"sweep took {time.perf_counter() - start:.1f}s")


def cmd_repro(args) -> None:
    from shared.results import write_results

    figures = args.only or list(REPRO)
    _check_assets(args)
    out = prepare_out(args)
    header(args, only=",".join(figures), out=out)
    start = time.perf_counter()
    metrics = {}
    for figure in dict.fromkeys(figures):
        settings = REPRO[figure]
        figure_start = time.perf_counter()
        methods = _methods(figure, None, None, None)
        metrics[figure] = run_figure(figure, out, methods, args.seed, settings["epochs"], settings["train_size"],
                                     assets=args.assets)  # fmt: skip
        metrics[figure]["seconds"] = round(time.perf_counter() - figure_start, 1)
        print(f"{figure} took {metrics[figure]['seconds']}s")
    seconds = time.perf_counter() - start
    wrote(write_results(out, metrics, seconds, args.seed))
    print(f"repro took {seconds:.1f}s")


def cmd_demo(args) -> None:
    """The toy figure, then Figure 1 for one epoch: a first look in about a minute."""
    out = prepare_out(args)
    header(args, out=out)
    run_toy(out / "toy", 1000, args.seed)
    start = time.perf_counter()
    run_figure("fig1", out / "fig1", _methods("fig1", None, None, None), args.seed, epochs=1, train_size=None)
    print(f"fig1 took {time.perf_counter() - start:.1f}s")


def cmd_bench(args) -> None:
    from .bench import run_bench

    header(args, tensors=args.tensors, size=args.size, repeats=args.repeats)
    run_bench(args.tensors, args.size, args.repeats, args.only, args.threads)


# --------------------------------------------------------------------------- the parser

app = App("adam", "05_adam", __doc__, default="demo")
app.command("demo", cmd_demo, help="the demo: toy, then fig1 for one epoch (about a minute)")

_train_size = bounded_int(1, MNIST_TRAIN)
for _figure, _help, _epochs, _size, _names in (
    ("fig1", "Section 6.1: logistic regression, Adam vs AdaGrad vs SGD-Nesterov", 5, None, FIG1_NAMES),
    ("fig2", "Section 6.2: MLP with dropout, five optimizers", 3, 10000, FIG2_NAMES),
):
    _p = app.command(_figure, cmd_fig, help=_help, only=_names)
    _p.add_argument("--epochs", type=bounded_int(1, MAX_EPOCHS), default=_epochs, help=f"default: {_epochs}")
    _p.add_argument("--train-size", type=_train_size, default=_size,
                    help=f"images, a fixed random subset (default: {_size or 'all 60000'})")  # fmt: skip
    if _figure == "fig1":
        _p.add_argument("--l2", type=non_negative_float, default=1e-4, help="L2 penalty l2/2 |W|^2 in the cost")
    else:
        _p.add_argument("--dropout", type=probability, default=0.5, help="dropout rate in [0, 1) (default: 0.5)")
    _p.add_argument("--lr", action="append", type=_name_value, metavar="NAME=VALUE", help="override a tuned step size")
    _p.add_argument("--set", action="append", type=_setting, metavar="NAME.ARG=VALUE",
                    help="override another hyperparameter, e.g. adam.betas=0.9,0.99 or adam.eps=1e-6")  # fmt: skip

_p = app.command("bias-correction", cmd_bias_correction, help="Section 6.4: Adam with and without bias correction")
_p.add_argument("--budgets", type=bounded_int(1, MAX_BUDGET), nargs="+", default=[100, 500], help="iterations")
_p.add_argument("--lrs", type=positive_float, nargs="+", default=[1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2])
_p.add_argument("--train-size", type=_train_size, default=10000)

_p = app.command("toy", cmd_toy, help="trajectories on Rosenbrock and a noisy ill-conditioned quadratic")
_p.add_argument("--steps", type=bounded_int(1, MAX_STEPS), default=1000, help="default: 1000")
_p.add_argument("--assets", metavar="DIR", help="also draw toy.png into DIR (the README's: 05_adam/assets)")

_p = app.command("sweep", cmd_sweep, help="the step-size sweep behind the tuned settings (out: runs/05_adam/sweep/FIG)",
                 only=sorted(set(FIG1_NAMES) | set(FIG2_NAMES)))  # fmt: skip
_p.add_argument("figure", choices=["fig1", "fig2"])
_p.add_argument("--epochs", type=bounded_int(1, MAX_EPOCHS), default=None, help="default: the figure's (5 or 3)")
_p.add_argument("--train-size", type=_train_size, default=None, help="default: the figure's (all or 10000)")
_p.add_argument("--set", action="append", type=_setting, metavar="NAME.ARG=VALUE", help="e.g. adam.betas=0.9,0.99")
_p.add_argument("--lrs", type=positive_float, nargs="+", default=None, help="step sizes instead of the built-in grid")

_p = app.command("repro", cmd_repro, help="fig1 and fig2 at the README's settings; writes results.json",
                 only=list(REPRO))  # fmt: skip
_p.add_argument("--assets", metavar="DIR", help="also draw the figures into DIR (the README's: 05_adam/assets)")

_p = app.command("bench", cmd_bench, help="time one optimizer step over 10M parameters, ours next to torch.optim",
                 only=["SGD-momentum", "Adam", "AdamW"])  # fmt: skip
_p.add_argument("--tensors", type=bounded_int(1, 100_000), default=100, help="parameter tensors (default: 100)")
_p.add_argument("--size", type=bounded_int(1, 10**10), default=100_000, help="elements per tensor (default: 100000)")
_p.add_argument("--repeats", type=bounded_int(1, 1000), default=15, help="timed steps of each (default: 15)")


def main(argv: list[str] | None = None) -> int:
    return app.main(argv)


if __name__ == "__main__":
    sys.exit(main())
