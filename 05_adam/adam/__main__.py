"""Command line: python -m adam {fig1, fig2, bias-correction, toy, sweep, repro} [options].

    python -m adam fig1                 Section 6.1: logistic regression on MNIST (Figure 1)
    python -m adam fig2                 Section 6.2: MLP with dropout on MNIST (Figure 2)
    python -m adam bias-correction      Section 6.4 in small form (Figure 4)
    python -m adam toy                  every optimizer on Rosenbrock and a noisy quadratic
    python -m adam sweep fig1|fig2      the step-size sweep behind the tuned settings
    python -m adam repro                fig1 and fig2 at the README's settings, plus results.json
    python -m adam                      the demo (what `nox -s demo -- 05_adam` runs): toy and a 1-epoch fig1

Each writes a PNG and a CSV under --out (default runs/<command>/).
"""

from __future__ import annotations

import os

# One BLAS thread per process unless the user says otherwise: on a small machine shared with other jobs,
# two OpenBLAS threads fighting for two busy cores made the MLP's matrix products ten times slower.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import sys
import time

from shared.data import DataError
from shared.results import output_dir, write_results

# Settings of `repro` (the README's results table); the subcommands' defaults are smaller.
REPRO = {
    "fig1": {"epochs": 10, "train_size": None},
    "fig2": {"epochs": 5, "train_size": 20000},
}


def _overrides(pairs: list[str] | None) -> dict[str, float]:
    out = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        try:
            out[name] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise SystemExit(f"error: --lr takes NAME=VALUE (e.g. adam=0.001), got {pair!r}")
    return out


def _settings(pairs: list[str] | None) -> dict[str, dict]:
    """--set adam.betas=0.9,0.99 --set rmsprop.alpha=0.9  ->  {"adam": {"betas": (0.9, 0.99)}, ...}"""
    out: dict[str, dict] = {}
    for pair in pairs or []:
        target, sep, value = pair.partition("=")
        name, dot, key = target.partition(".")
        try:
            numbers = tuple(float(v) for v in value.split(","))
        except ValueError:
            sep = ""
        if not (sep and dot and name and key):
            raise SystemExit(f"error: --set takes METHOD.ARGUMENT=VALUE (e.g. adam.betas=0.9,0.99), got {pair!r}")
        out.setdefault(name, {})[key] = numbers if len(numbers) > 1 else numbers[0]
    return out


def _methods(base: dict, only, lrs: dict[str, float], settings: dict[str, dict] | None = None) -> dict:
    from .experiments import Method, _check_methods

    try:
        methods = _check_methods(base, only)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    settings = settings or {}
    unknown = sorted((set(lrs) | set(settings)) - set(methods))
    if unknown:
        raise SystemExit(f"error: --lr/--set name unknown methods {unknown}; choose from {sorted(methods)}")
    return {
        name: Method(m.label, m.optimizer, lrs.get(name, m.lr), {**m.settings, **settings.get(name, {})})
        for name, m in methods.items()
    }


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


def run_figure(figure: str, args, out, epochs: int, train_size: int | None) -> dict:
    from . import experiments as ex
    from .figures import curves_to_rows, plot_costs, write_csv

    base = ex.FIG1_METHODS if figure == "fig1" else ex.FIG2_METHODS
    methods = _methods(base, args.only, _overrides(args.lr), _settings(getattr(args, "set", None)))
    x, y = ex.load_mnist_flat("train", train_size, seed=args.seed)
    if figure == "fig1":
        curves = ex.run_fig1(x, y, epochs=epochs, l2=args.l2, seed=args.seed, methods=methods)
        title = f"Logistic regression, MNIST ({len(x)} images), alpha/sqrt(t)"
    else:
        curves = ex.run_fig2(x, y, epochs=epochs, dropout=args.dropout, seed=args.seed, methods=methods)
        title = f"MLP 1000-1000 + dropout, MNIST ({len(x)} images)"
    labels = {name: m.label for name, m in methods.items()}
    print(f"wrote {plot_costs(out / f'{figure}.png', curves, labels, title)}")
    print(f"wrote {write_csv(out / f'{figure}.csv', curves_to_rows(curves, labels))}")
    metrics = summarize(figure, curves, methods)
    metrics["epochs"] = epochs
    metrics["train_size"] = len(x)
    return metrics


def cmd_fig(args) -> None:
    start = time.perf_counter()
    out = output_dir(args.out, args.command)
    run_figure(args.command, args, out, args.epochs, args.train_size)
    print(f"{args.command} took {time.perf_counter() - start:.1f}s")


def cmd_bias_correction(args) -> None:
    from . import experiments as ex
    from .figures import plot_bias_correction, write_csv

    start = time.perf_counter()
    out = output_dir(args.out, "bias-correction")
    x, _ = ex.load_mnist_flat("train", args.train_size, seed=args.seed)
    rows = ex.run_bias_correction(x, budgets=args.budgets, lrs=args.lrs, seed=args.seed)
    print(f"wrote {plot_bias_correction(out / 'bias_correction.png', rows)}")
    print(f"wrote {write_csv(out / 'bias_correction.csv', rows)}")
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


def cmd_toy(args) -> None:
    from .figures import plot_toy, write_csv
    from .toy import TOY_SETTINGS, noisy_quadratic, rosenbrock, trajectory

    out = output_dir(args.out, "toy")
    paths, rows = {}, []
    for function, settings in TOY_SETTINGS.items():
        paths[function] = {}
        for name in settings:
            points = trajectory(function, name, steps=args.steps, seed=args.seed)
            paths[function][name] = points
            f = rosenbrock if function == "rosenbrock" else noisy_quadratic
            rows += [{"function": function, "optimizer": name, "step": t, "x": p[0], "y": p[1], "f": f(p)[0]}
                     for t, p in enumerate(points)]  # fmt: skip
            print(f"{function:16s} {name:13s} final f {f(points[-1])[0]:.4g} at ({points[-1][0]:.3f}, "
                  f"{points[-1][1]:.3f})")  # fmt: skip
    print(f"wrote {plot_toy(out / 'toy.png', paths)}")
    print(f"wrote {write_csv(out / 'toy.csv', rows)}")


def cmd_sweep(args) -> None:
    from . import experiments as ex
    from .figures import write_csv

    start = time.perf_counter()
    out = output_dir(args.out, f"sweep-{args.figure}")
    x, y = ex.load_mnist_flat("train", args.train_size, seed=args.seed)
    try:
        grids = None
        if args.lrs:
            names = args.only or list(ex.SWEEP_GRIDS[args.figure])
            grids = {args.figure: {name: args.lrs for name in names}}
        table = ex.sweep(args.figure, x, y, epochs=args.epochs, seed=args.seed, grids=grids, only=args.only,
                         settings=_settings(args.set))  # fmt: skip
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    rows = [
        {"method": name, "lr": lr, "train_cost": cost} for name, costs in table.items() for lr, cost in costs.items()
    ]
    print(f"wrote {write_csv(out / f'sweep_{args.figure}.csv', rows)}")
    for name, costs in table.items():
        best = min(costs, key=costs.get)
        print(f"best {name:13s} lr {best:g} (final training cost {costs[best]:.5f})")
    print(f"sweep took {time.perf_counter() - start:.1f}s")


def cmd_repro(args) -> None:
    start = time.perf_counter()
    out = output_dir(args.out, "repro")
    figures = args.only or list(REPRO)
    unknown = sorted(set(figures) - set(REPRO))
    if unknown:
        raise SystemExit(f"error: --only takes {sorted(REPRO)}, got {unknown}")
    args.only, args.lr, args.set, args.l2, args.dropout = None, None, None, 1e-4, 0.5
    metrics = {}
    for figure in figures:
        settings = REPRO[figure]
        figure_start = time.perf_counter()
        metrics[figure] = run_figure(figure, args, out, settings["epochs"], settings["train_size"])
        metrics[figure]["seconds"] = round(time.perf_counter() - figure_start, 1)
        print(f"{figure} took {metrics[figure]['seconds']}s")
    seconds = time.perf_counter() - start
    print(f"wrote {write_results(out, metrics, seconds, args.seed)}")
    print(f"repro took {seconds:.1f}s")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _unit_fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m adam", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")

    def common(p):
        p.add_argument("--out", default=None, help="output folder (default runs/<command>/)")
        p.add_argument("--seed", type=int, default=0)

    fig1 = sub.add_parser("fig1", help="Section 6.1: logistic regression, Adam vs AdaGrad vs SGD-Nesterov")
    fig1.add_argument("--epochs", type=_positive, default=5)
    fig1.add_argument("--train-size", type=_positive, default=None, help="images (default: all 60000)")
    fig1.add_argument("--l2", type=float, default=1e-4, help="L2 penalty l2/2 |W|^2 in the cost")
    fig2 = sub.add_parser("fig2", help="Section 6.2: MLP with dropout, five optimizers")
    fig2.add_argument("--epochs", type=_positive, default=3)
    fig2.add_argument("--train-size", type=_positive, default=10000, help="random subset of the training images")
    fig2.add_argument("--dropout", type=_unit_fraction, default=0.5)
    for p in (fig1, fig2):
        p.add_argument("--only", action="append", help="run only this method (repeatable)")
        p.add_argument("--lr", action="append", metavar="NAME=VALUE", help="override a tuned step size")
        p.add_argument("--set", action="append", metavar="NAME.ARG=VALUE", help="override another hyperparameter")
        common(p)
        p.set_defaults(func=cmd_fig)

    bias = sub.add_parser("bias-correction", help="Section 6.4: Adam with and without bias correction")
    bias.add_argument("--budgets", type=_positive, nargs="+", default=[100, 500], help="iterations")
    bias.add_argument("--lrs", type=float, nargs="+", default=[1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2])
    bias.add_argument("--train-size", type=_positive, default=10000)
    common(bias)
    bias.set_defaults(func=cmd_bias_correction)

    toy = sub.add_parser("toy", help="trajectories on Rosenbrock and a noisy ill-conditioned quadratic")
    toy.add_argument("--steps", type=_positive, default=1000)
    common(toy)
    toy.set_defaults(func=cmd_toy)

    sweep = sub.add_parser("sweep", help="the step-size sweep behind the tuned settings")
    sweep.add_argument("figure", choices=["fig1", "fig2"])
    sweep.add_argument("--epochs", type=_positive, default=None, help="default: the figure command's default")
    sweep.add_argument("--train-size", type=_positive, default=None)
    sweep.add_argument("--only", action="append", help="sweep only this method (repeatable)")
    sweep.add_argument("--set", action="append", metavar="NAME.ARG=VALUE", help="e.g. adam.betas=0.9,0.99")
    sweep.add_argument("--lrs", type=float, nargs="+", default=None, help="step sizes instead of the built-in grid")
    common(sweep)
    sweep.set_defaults(func=cmd_sweep)

    repro = sub.add_parser("repro", help="fig1 and fig2 at the README's settings; writes results.json")
    repro.add_argument("--only", action="append", help="fig1 or fig2 (repeatable)")
    common(repro)
    repro.set_defaults(func=cmd_repro)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command is None:  # the demo: the toy figure, then a short Figure 1
        main(["toy"])
        main(["fig1", "--epochs", "1"])
        return
    if args.command == "sweep":
        defaults = {"fig1": (5, None), "fig2": (3, 10000)}[args.figure]
        args.epochs = args.epochs or defaults[0]
        args.train_size = args.train_size or defaults[1]
    try:
        args.func(args)
    except (DataError, ValueError) as error:  # bad data or a bad hyperparameter: a message, not a traceback
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
