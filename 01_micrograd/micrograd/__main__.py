"""python -m micrograd: train micrograd's two-moons demo; `repro` reruns the README results.

    python -m micrograd                        the demo (defaults = micrograd's settings)
    python -m micrograd --steps 50 --seed 3    options: steps, seed, points, noise, alpha, out
    python -m micrograd repro                  the README results table, exactly (writes results.json)
    python -m micrograd repro --seeds 0 1 2    the same settings over several seeds

Outputs (in --out, default runs/micrograd/): decision_boundary.png, training.png,
graph.png and graph.dot (the lecture's neuron, with its gradients), results.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from shared.progress import Progress
from shared.results import output_dir, write_results
from shared.seeding import make_rng

from .data import make_moons
from .graph import draw_graph, neuron_example, to_dot
from .nn import MLP
from .plots import plot_decision_boundary, plot_training
from .train import StepRecord, train

# micrograd's demo.ipynb: make_moons(n_samples=100, noise=0.1), MLP(2, [16, 16, 1]), alpha 1e-4, 100 steps, seed 1337
REFERENCE = {"steps": 100, "points": 100, "noise": 0.1, "alpha": 1e-4, "seed": 1337}
HIDDEN = [16, 16]


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def seed_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"seeds are non-negative integers, got {value}")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def at_least_two(text: str) -> int:
    value = int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"need at least 2 points (one per moon), got {value}")
    return value


def run_demo(steps: int, seed: int, points: int, noise: float, alpha: float, out: Path, print_every: int = 10) -> dict:
    """Train on the moons, save the pictures, and return the headline metrics."""
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
    history = train(model, X, y, steps=steps, alpha=alpha, on_step=on_step)
    seconds = time.perf_counter() - start
    progress.close()

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m micrograd",
        description="Train micrograd's two-moons demo with a scalar autograd engine. "
        "Subcommand `repro` reruns the README results table.",
    )
    parser.add_argument("--steps", type=positive_int, default=REFERENCE["steps"], help="SGD steps (default 100)")
    parser.add_argument("--seed", type=seed_int, default=REFERENCE["seed"], help="seed for data and weights")
    parser.add_argument("--points", type=at_least_two, default=REFERENCE["points"], help="moons points")
    parser.add_argument("--noise", type=non_negative_float, default=REFERENCE["noise"], help="moons noise std")
    parser.add_argument("--alpha", type=non_negative_float, default=REFERENCE["alpha"], help="L2 strength")
    parser.add_argument("--print-every", type=positive_int, default=10, help="log a step line every N steps")
    parser.add_argument("--out", default=None, help="output folder (default runs/micrograd/)")
    return parser


def build_repro_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m micrograd repro",
        description="The README results table: the demo with micrograd's settings "
        "(100 points, noise 0.1, MLP(2, [16, 16, 1]), alpha 1e-4, 100 steps); writes results.json.",
    )
    parser.add_argument("--seeds", type=seed_int, nargs="+", default=[REFERENCE["seed"]],
                        help="one or more seeds (default 1337); several nest results.json by seed")  # fmt: skip
    parser.add_argument("--out", default=None, help="output folder (default runs/micrograd/)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    start = time.perf_counter()
    if argv and argv[0] == "repro":
        args = build_repro_parser().parse_args(argv[1:])
        out = output_dir(args.out, "micrograd")
        settings = {k: v for k, v in REFERENCE.items() if k != "seed"}
        runs = {}
        for seed in args.seeds:
            folder = out if len(args.seeds) == 1 else out / f"seed_{seed}"
            folder.mkdir(parents=True, exist_ok=True)
            runs[seed] = run_demo(seed=seed, out=folder, **settings)
        if len(args.seeds) == 1:
            metrics, seed = runs[args.seeds[0]], args.seeds[0]
        else:
            metrics = {f"seed_{s}": m for s, m in runs.items()}
            metrics["summary"] = {
                "runs": len(runs),
                "runs_at_full_accuracy": sum(m["train_accuracy"] == 1.0 for m in runs.values()),
                "mean_final_loss": sum(m["final_loss"] for m in runs.values()) / len(runs),
            }
            seed = None  # each configuration names its own seed
    else:
        if argv and argv[0] == "demo":
            argv = argv[1:]
        args = build_parser().parse_args(argv)
        out = output_dir(args.out, "micrograd")
        metrics = run_demo(args.steps, args.seed, args.points, args.noise, args.alpha, out, args.print_every)
        seed = args.seed
    path = write_results(out, metrics, time.perf_counter() - start, seed)
    print(f"wrote {path} and the PNG/DOT drawings in {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
