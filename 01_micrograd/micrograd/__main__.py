"""python -m micrograd <command> [options]: micrograd's two-moons demo on a scalar autograd engine.

commands:
  train     the demo (the default command): MLP(2, [16, 16, 1]) on 100 moons points, 100 SGD steps
  repro     rerun the README results and write results.json: --only derivative (the difference-quotient
            table), --only moons (the demo with micrograd's settings; --seeds S... for several seeds)
  bench     our training step and backward() next to Karpathy's micrograd (and PyTorch, if installed)

Outputs of train and repro (in --out, default runs/01_micrograd/<command>): decision_boundary.png,
training.png, graph.png and graph.dot (the lecture's neuron, with its gradients), results.json.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from shared.cli import App, CLIError, bounded_float, bounded_int, header, positive_int, prepare_out, wrote
from shared.progress import Progress
from shared.results import write_results
from shared.seeding import make_rng

from . import bench
from .data import make_moons
from .graph import draw_graph, neuron_example, to_dot
from .nn import MLP
from .numerical import derivative_table
from .plots import plot_decision_boundary, plot_training
from .train import StepRecord, check_graph_memory, train

# micrograd's demo.ipynb: make_moons(n_samples=100, noise=0.1), MLP(2, [16, 16, 1]), alpha 1e-4, 100 steps, seed 1337
REFERENCE = {"steps": 100, "points": 100, "noise": 0.1, "alpha": 1e-4, "seed": 1337}
HIDDEN = [16, 16]
ASSETS = Path(__file__).resolve().parent.parent / "assets"  # the README's figures
FIGURES = ("decision_boundary.png", "training.png", "graph.png")

# Limits on flags, checked before anything is allocated (README, "Bad input").
MAX_STEPS = 1_000_000  # one StepRecord per step is kept; a million steps is days of training already
MAX_POINTS = 1_000_000  # and, below that, the memory the graph needs (train.BYTES_PER_POINT) must be available
MAX_NOISE = 10.0  # the moons have radius 1: noise of 10 is already nothing but noise
MAX_ALPHA = 1.0  # the L2 step alone is p -= lr 2 alpha p with lr up to 1: above alpha = 1 it makes |p| grow


def run_demo(steps: int, seed: int, points: int, noise: float, alpha: float, out: Path, print_every: int = 10) -> dict:
    """Train on the moons, save the pictures, and return the headline metrics."""
    check_graph_memory(points, f"--points {points}")
    rng = make_rng(seed)  # one generator: first the data, then the weights
    X, labels = make_moons(points, noise, rng)
    y = 2 * labels - 1  # {0, 1} -> {-1, +1} for the max-margin loss
    model = MLP(2, [*HIDDEN, 1], rng=rng)
    print(f"seed {seed}: {points} moons points (noise {noise}), {model.__class__.__name__}(2, {[*HIDDEN, 1]}) "
          f"with {len(model.parameters())} parameters, {steps} steps")  # fmt: skip

    progress = Progress(total=steps, description="train", unit="step")

    def on_step(record: StepRecord) -> None:
        if record.step % print_every == 0 or record.step == steps - 1:
            progress.write(f"step {record.step} loss {record.loss:.6f}, accuracy {record.accuracy:.0%}")
        progress.update(record.step + 1, loss=record.loss, accuracy=record.accuracy)

    start = time.perf_counter()
    try:
        history = train(model, X, y, steps=steps, alpha=alpha, on_step=on_step)
    except FloatingPointError as error:  # a diverging run is the user's settings, not a bug
        raise CLIError(f"{error}; choose a smaller --alpha or --noise") from None
    finally:
        progress.close()
    seconds = time.perf_counter() - start

    last = history[-1]
    first_full = next((r.step for r in history if r.accuracy == 1.0), None)
    reached = f"first at step {first_full}" if first_full is not None else "never reached 100%"
    print(f"step {last.step}: loss {last.loss:.4f}, training accuracy {last.accuracy:.0%} ({reached}); "
          f"{seconds:.1f} s, {1000 * seconds / steps:.0f} ms/step")  # fmt: skip

    plot_decision_boundary(model, X, y, out / "decision_boundary.png",
                           title=f"MLP(2, [16, 16, 1]) after {steps} steps: accuracy {last.accuracy:.0%}")  # fmt: skip
    plot_training(history, out / "training.png")
    neuron = neuron_example()
    draw_graph(neuron, out / "graph.png")
    (out / "graph.dot").write_text(to_dot(neuron))
    return {
        "final_loss": last.loss,
        "train_accuracy": last.accuracy,
        "steps": steps,
        "first_step_at_full_accuracy": first_full,
        "train_seconds": round(seconds, 3),
        "ms_per_step": round(1000 * seconds / steps, 2),
    }


app = App("micrograd", "01_micrograd", __doc__, default="train")


def cmd_train(args: argparse.Namespace) -> int:
    check_graph_memory(args.points, f"--points {args.points}")
    out = prepare_out(args)
    header(args, steps=args.steps, points=args.points, noise=args.noise, alpha=args.alpha, out=out)
    start = time.perf_counter()
    metrics = run_demo(args.steps, args.seed, args.points, args.noise, args.alpha, out, args.print_every)
    path = write_results(out, metrics, time.perf_counter() - start, args.seed)
    wrote(path, *(out / name for name in (*FIGURES, "graph.dot")))
    return 0


train_parser = app.command("train", cmd_train, help="the two-moons demo (micrograd's settings by default)", seed=1337)
train_parser.add_argument("--steps", type=bounded_int(1, MAX_STEPS), default=REFERENCE["steps"],
                          help="SGD steps (default 100)")  # fmt: skip
train_parser.add_argument("--points", type=bounded_int(2, MAX_POINTS), default=REFERENCE["points"],
                          help="moons points (default 100)")  # fmt: skip
train_parser.add_argument("--noise", type=bounded_float(0, MAX_NOISE), default=REFERENCE["noise"],
                          help=f"moons noise std, 0 to {MAX_NOISE:g} (default 0.1)")  # fmt: skip
train_parser.add_argument("--alpha", type=bounded_float(0, MAX_ALPHA), default=REFERENCE["alpha"],
                          help=f"L2 strength, 0 to {MAX_ALPHA:g} (default 1e-4)")  # fmt: skip
train_parser.add_argument("--print-every", type=positive_int, default=10, help="log a step line every N steps")


def print_derivative_table(rows: list[dict]) -> None:
    print("f(x) = x^3 at x = 3, true slope 27:")
    print(f"  {'h':>6}  {'one-sided':>20} {'error':>9}  {'central':>20} {'error':>9}")
    for r in rows:
        print(f"  {r['h']:6.0e}  {r['one_sided']:20.15f} {r['one_sided_error']:9.1e}  "
              f"{r['central']:20.15f} {r['central_error']:9.1e}")  # fmt: skip


def cmd_repro(args: argparse.Namespace) -> int:
    names = args.only or ["derivative", "moons"]
    seeds = args.seeds or [args.seed]
    if args.assets and ("moons" not in names or len(seeds) != 1):
        raise CLIError("--assets copies the figures of one moons run: use it without --only derivative or --seeds")
    out = prepare_out(args)
    header(args, rows=",".join(names), seeds=" ".join(map(str, seeds)), out=out)
    start = time.perf_counter()
    metrics, written = {}, []
    if "derivative" in names:
        rows = derivative_table()
        print_derivative_table(rows)
        metrics["derivative"] = {"function": "x^3", "x": 3.0, "slope": 27.0, "rows": rows}
    if "moons" in names:
        settings = {k: v for k, v in REFERENCE.items() if k != "seed"}
        runs = {}
        for seed in seeds:
            folder = out if len(seeds) == 1 else out / f"seed_{seed}"
            folder.mkdir(parents=True, exist_ok=True)
            runs[seed] = run_demo(seed=seed, out=folder, **settings)
            written += [folder / name for name in FIGURES]
        if len(seeds) == 1:
            metrics["moons"] = runs[seeds[0]]
        else:
            metrics["moons"] = {f"seed_{s}": m for s, m in runs.items()}
            metrics["moons"]["summary"] = {
                "runs": len(runs),
                "runs_at_full_accuracy": sum(m["train_accuracy"] == 1.0 for m in runs.values()),
                "mean_final_loss": sum(m["final_loss"] for m in runs.values()) / len(runs),
            }
    path = write_results(out, metrics, time.perf_counter() - start, seeds[0] if len(seeds) == 1 else None)
    wrote(path, *written)
    if args.assets:
        ASSETS.mkdir(exist_ok=True)
        wrote(*(shutil.copy(out / name, ASSETS / name) for name in FIGURES))
    return 0


repro_parser = app.command(
    "repro",
    cmd_repro,
    help="rerun the README results (every row without --only) and write results.json",
    only=["derivative", "moons"],
    seeds=True,
    seed=1337,
)
repro_parser.add_argument("--assets", action="store_true", help=f"also copy {', '.join(FIGURES)} to {ASSETS}")

bench_parser = app.command(
    "bench", bench.run, help="time training and backward() next to Karpathy's micrograd (and PyTorch)", seed=1337
)
bench.add_arguments(bench_parser)


def main(argv: list[str] | None = None) -> int:
    return app.main(argv)


if __name__ == "__main__":
    sys.exit(main())
