"""Time the moons training and one large backward(), next to Karpathy's micrograd.

    python -m micrograd bench --reference /tmp/mg/micrograd-0.1.0-py3-none-any.whl
    python -m micrograd.bench ...            the same command, by its old name

Karpathy's micrograd (PyPI `micrograd` 0.1.0) is a comparison only, never a dependency,
and it is also called `micrograd`, so it is not imported by name: its two source files
are read from `--reference` (the wheel, or a folder holding `micrograd/engine.py`), from
$MICROGRAD_REFERENCE, or from an installed `micrograd` distribution, and executed as a
separate module. Get it with `pip download --no-deps micrograd==0.1.0 -d /tmp/mg`.
Without it, the bench times ours alone and says so. PyTorch, if installed, runs the same
training with float64 tensors, as a point of reference for what vectorisation buys.

Both engines train the same MLP from the same initial weights on the same points with
micrograd's demo loop, so their losses must agree (up to the order in which gradient
contributions are summed); the bench prints the largest difference. The training steps run
interleaved (one step of each engine in turn) and the backward passes alternately
(`shared.timing.best_times`), so that the load of a shared machine hits both alike. The bench
writes its ratios to results.json in --out (default runs/01_micrograd/bench).
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import os
import sys
import time
import types
import zipfile
from functools import partial
from pathlib import Path

import numpy as np

from shared.cli import CLIError, bounded_int, header, prepare_out, wrote
from shared.results import write_results
from shared.seeding import make_rng
from shared.timing import Timer, best_times

from .data import make_moons
from .fast import backward_fast, topological_order_fast
from .nn import MLP
from .train import check_graph_memory, max_margin_loss, sgd_step, train

SOURCES = ("micrograd/engine.py", "micrograd/nn.py")


class ReferenceNotFoundError(RuntimeError):
    """Karpathy's micrograd could not be located or loaded."""


def _read_reference_sources(location: str | None) -> tuple[dict[str, str], str]:
    """{'micrograd/engine.py': text, 'micrograd/nn.py': text} and where they came from."""
    if location is None:
        location = os.environ.get("MICROGRAD_REFERENCE")
    if location is None:
        try:
            dist = importlib.metadata.distribution("micrograd")  # ours is `dnn-micrograd`: no clash
        except importlib.metadata.PackageNotFoundError:
            raise ReferenceNotFoundError(
                "Karpathy's micrograd not found; get it with `pip download --no-deps micrograd==0.1.0 -d /tmp/mg` "
                "and pass --reference /tmp/mg/micrograd-0.1.0-py3-none-any.whl"
            ) from None
        texts = {name: Path(dist.locate_file(name)).read_text() for name in SOURCES}
        return texts, f"installed distribution micrograd {dist.version}"
    path = Path(location)
    if not path.exists():
        raise ReferenceNotFoundError(f"--reference {path}: no such file or folder")
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise ReferenceNotFoundError(f"--reference {path}: not a wheel (zip) file")
        with zipfile.ZipFile(path) as wheel:
            missing = [name for name in SOURCES if name not in wheel.namelist()]
            if missing:
                raise ReferenceNotFoundError(f"--reference {path}: the wheel has no {', '.join(missing)}")
            return {name: wheel.read(name).decode() for name in SOURCES}, str(path)
    missing = [name for name in SOURCES if not (path / name).is_file()]
    if missing:
        raise ReferenceNotFoundError(f"--reference {path}: the folder has no {', '.join(missing)}")
    return {name: (path / name).read_text() for name in SOURCES}, str(path)


def load_reference(location: str | None = None) -> tuple[types.ModuleType, types.ModuleType, str]:
    """Karpathy's (engine, nn) modules, executed under the names `karpathy_micrograd.*`.

    His nn.py says `from micrograd.engine import Value`; while it runs, `micrograd.engine`
    in sys.modules points at his engine, and is restored to ours right after.
    """
    try:
        texts, origin = _read_reference_sources(location)
    except UnicodeDecodeError as error:
        raise ReferenceNotFoundError(f"Karpathy's micrograd sources are not UTF-8 text ({error.reason})") from None
    modules = {}
    for name in SOURCES:
        module = types.ModuleType("karpathy_" + name[:-3].replace("/", "."))
        module.__file__ = f"{origin}:{name}"
        modules[name] = module
    engine, nn = modules[SOURCES[0]], modules[SOURCES[1]]
    try:
        exec(compile(texts[SOURCES[0]], engine.__file__, "exec"), engine.__dict__)
    except Exception as error:  # a broken file (SyntaxError, ...) is bad input, not a crash of ours
        raise ReferenceNotFoundError(f"could not load Karpathy's micrograd from {origin}: {error}") from error
    saved = sys.modules.get("micrograd.engine")
    sys.modules["micrograd.engine"] = engine
    try:
        exec(compile(texts[SOURCES[1]], nn.__file__, "exec"), nn.__dict__)
    except Exception as error:
        raise ReferenceNotFoundError(f"could not load Karpathy's micrograd from {origin}: {error}") from error
    finally:
        if saved is not None:
            sys.modules["micrograd.engine"] = saved
        else:
            del sys.modules["micrograd.engine"]
    if not hasattr(nn, "MLP") or not hasattr(engine, "Value"):
        raise ReferenceNotFoundError(f"{origin} does not look like micrograd: no Value or MLP")
    return engine, nn, origin


def reference_step(engine, model, X: list, y: list, alpha: float):
    """One forward pass of micrograd's demo.ipynb `loss()`, verbatim but for plain-float data."""
    Value = engine.Value
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def reference_sgd_step(engine, model, X: list, y: list, step: int, steps: int, alpha: float) -> float:
    """One step of micrograd's demo training loop (forward, zero_grad, backward, update); its loss."""
    total_loss = reference_step(engine, model, X, y, alpha)
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * step / steps
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return total_loss.data


def train_reference(engine, model, X: np.ndarray, y: np.ndarray, steps: int, alpha: float, pause_gc: bool):
    """micrograd's demo training loop; returns (losses, seconds). `pause_gc` collects after every step."""
    X_list, y_list = X.tolist(), y.astype(np.float64).tolist()  # plain floats, as fast as his engine gets
    losses = []
    start = time.perf_counter()
    for k in range(steps):
        if pause_gc:
            gc.disable()
        try:
            losses.append(reference_sgd_step(engine, model, X_list, y_list, k, steps, alpha))
        finally:
            if pause_gc:
                gc.enable()
                gc.collect()  # his graphs hold reference cycles (closures): they must be collected
    return losses, time.perf_counter() - start


def train_interleaved(engine, ours: MLP, theirs, X: np.ndarray, y: np.ndarray, steps: int, alpha: float):
    """Both trainings in lock-step, timing each step of each: the load of a shared machine hits both alike.

    Returns (our losses, our seconds, their losses, their seconds).
    """
    X_list, y_list = X.tolist(), y.astype(np.float64).tolist()
    ours_losses, theirs_losses, ours_seconds, theirs_seconds = [], [], 0.0, 0.0
    for k in range(steps):
        start = time.perf_counter()
        ours_losses.append(sgd_step(ours, X, y, k, steps, alpha).loss)
        middle = time.perf_counter()
        theirs_losses.append(reference_sgd_step(engine, theirs, X_list, y_list, k, steps, alpha))
        end = time.perf_counter()
        ours_seconds += middle - start
        theirs_seconds += end - middle
    return ours_losses, ours_seconds, theirs_losses, theirs_seconds


def copy_weights(source: MLP, target) -> None:
    """Give Karpathy's MLP exactly our parameters (same order: layer, neuron, weights then bias)."""
    ours, theirs = source.parameters(), target.parameters()
    if len(ours) != len(theirs):
        raise ValueError(f"parameter counts differ: {len(ours)} vs {len(theirs)}")
    for p, q in zip(ours, theirs):
        q.data = p.data


def train_torch(model: MLP, X: np.ndarray, y: np.ndarray, steps: int, alpha: float, threads: int = 1):
    """The same training with PyTorch float64 tensors on `threads` threads; (losses, seconds) or None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    params = []
    for layer in model.layers:
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        params.append((W, b, layer.neurons[0].nonlin))
    Xt, yt = torch.tensor(X, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    losses = []
    start = time.perf_counter()
    for k in range(steps):
        h = Xt  # (N, 2)
        for W, b, nonlin in params:
            h = h @ W.T + b  # (N, nout)
            h = torch.relu(h) if nonlin else h
        loss = torch.relu(1 - yt * h[:, 0]).mean() + alpha * sum((W**2).sum() + (b**2).sum() for W, b, _ in params)
        for W, b, _ in params:
            W.grad = b.grad = None
        loss.backward()
        with torch.no_grad():
            for W, b, _ in params:
                W -= (1.0 - 0.9 * k / steps) * W.grad
                b -= (1.0 - 0.9 * k / steps) * b.grad
        losses.append(loss.item())
    return losses, time.perf_counter() - start, torch.__version__


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The bench's own options (the common --out --seed --threads --force come from shared.cli)."""
    parser.add_argument("--reference", default=None, help="Karpathy's micrograd: a wheel or a folder")
    parser.add_argument("--steps", type=bounded_int(1, 10_000), default=100, help="training steps to time (100)")
    parser.add_argument("--graph-points", type=bounded_int(2, 1_000_000), default=1000,
                        help="points in the large-graph backward (1000)")  # fmt: skip
    parser.add_argument("--repeats", type=bounded_int(1, 100), default=3, help="backward repeats, best kept (3)")
    parser.add_argument("--skip-torch", action="store_true", help="leave out the PyTorch line")


def backward_times(roots: dict, theirs, repeats: int) -> dict:
    """Best seconds of each of our backward functions on its own graph, each alternating with Karpathy's."""
    times = {}
    reference = theirs.backward if theirs is not None else None
    for name, (backward, root) in roots.items():
        times[name], times[f"karpathy vs {name}"] = best_times(partial(backward, root), reference, repeats)
    return times


def run(args: argparse.Namespace) -> int:
    """`python -m micrograd bench`: print the timings, write their ratios to results.json."""
    started = time.perf_counter()
    check_graph_memory(args.graph_points, f"--graph-points {args.graph_points}", copies=4)  # ours twice, his
    try:
        engine, knn, origin = load_reference(args.reference)
    except ReferenceNotFoundError as error:
        if args.reference is not None:
            raise CLIError(str(error)) from None
        engine = knn = None
        print(f"note: {error}; timing ours alone")
    out = prepare_out(args)
    header(args, steps=args.steps, graph_points=args.graph_points, out=out)
    if engine is not None:
        print(f"reference: Karpathy's micrograd from {origin}")
    metrics: dict = {"steps": args.steps, "graph_points": args.graph_points}

    alpha = 1e-4
    rng = make_rng(args.seed)
    X, labels = make_moons(100, 0.1, rng)
    y = 2 * labels - 1
    initial = MLP(2, [16, 16, 1], rng=rng)
    initial_weights = [p.data for p in initial.parameters()]

    def fresh_model() -> MLP:
        model = MLP(2, [16, 16, 1], rng=0)
        for p, w in zip(model.parameters(), initial_weights):
            p.data = w
        return model

    print(f"\n{args.steps}-step moons training: 100 points, MLP(2, [16, 16, 1]), 337 parameters, full batch")
    train(fresh_model(), X, y, steps=1)  # warm-up
    if engine is not None:
        theirs = knn.MLP(2, [16, 16, 1])
        copy_weights(fresh_model(), theirs)
        ours_losses, ours_seconds, theirs_losses, theirs_seconds = train_interleaved(
            engine, fresh_model(), theirs, X, y, args.steps, alpha
        )
        print("  interleaved, one step of each in turn:")
        print(f"  {'engine':<42} {'ms/step':>10}  {'time / ours':>11}")
        for label, seconds in (("ours (this repo)", ours_seconds), ("Karpathy's micrograd 0.1.0", theirs_seconds)):
            print(f"  {label:<42} {1000 * seconds / args.steps:10.2f}  {seconds / ours_seconds:10.2f}x")
        difference = max(abs(a - b) / max(abs(b), 1e-300) for a, b in zip(ours_losses, theirs_losses))
        print(f"  losses, ours vs Karpathy's at every step: largest relative difference {difference:.1e}; "
              f"final {ours_losses[-1]:.6f} vs {theirs_losses[-1]:.6f}")  # fmt: skip
        print(f"  speed-up over Karpathy's micrograd per training step: {theirs_seconds / ours_seconds:.1f}x")
        print("  one after another, each for all its steps (ratios move with the machine's load):")
        metrics["interleaved_ms_per_step"] = {
            "ours": round(1000 * ours_seconds / args.steps, 2),
            "karpathy": round(1000 * theirs_seconds / args.steps, 2),
        }
        metrics["speedup_per_training_step"] = round(theirs_seconds / ours_seconds, 2)
        metrics["largest_relative_loss_difference"] = difference
    with Timer() as ours:
        train(fresh_model(), X, y, steps=args.steps)
    print(f"  {'engine':<42} {'ms/step':>10}  {'time / ours':>11}")

    def report(label: str, seconds: float) -> None:
        print(f"  {label:<42} {1000 * seconds / args.steps:10.2f}  {seconds / ours.wall:10.2f}x")

    report("ours (this repo)", ours.wall)
    with Timer() as collector_on:
        train(fresh_model(), X, y, steps=args.steps, pause_cycle_collector=False)
    report("ours, cycle collector left on", collector_on.wall)
    if engine is not None:
        for label, pause in (("Karpathy's micrograd 0.1.0", False), ("  same, collector paused per step", True)):
            model = knn.MLP(2, [16, 16, 1])
            copy_weights(fresh_model(), model)
            report(label, train_reference(engine, model, X, y, args.steps, alpha, pause_gc=pause)[1])
    if not args.skip_torch:
        torch_result = train_torch(fresh_model(), X, y, args.steps, alpha, args.threads)
        if torch_result is None:
            print("  (PyTorch not installed: its line is skipped)")
        else:
            report(f"PyTorch {torch_result[2]} CPU, float64 tensors", torch_result[1])

    print(f"\none backward() over a large graph: the demo loss over {args.graph_points} moons points")
    big_X, big_labels = make_moons(args.graph_points, 0.1, make_rng(args.seed))
    big_y = 2 * big_labels - 1
    model = fresh_model()
    roots = {  # each backward on its own graph: the graphs are equal, their gradients independent
        "backward_fast": (backward_fast, max_margin_loss(model, big_X, big_y, alpha)[0]),
        "backward": (lambda root: root.backward(), max_margin_loss(model, big_X, big_y, alpha)[0]),
    }
    nodes = len(topological_order_fast(roots["backward_fast"][1]))
    theirs_root = None
    if engine is not None:
        kmodel = knn.MLP(2, [16, 16, 1])
        copy_weights(model, kmodel)
        theirs_root = reference_step(engine, kmodel, big_X.tolist(), big_y.astype(np.float64).tolist(), alpha)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20 * args.graph_points + 10_000))  # his topological sort recurses
    try:
        times = backward_times(roots, theirs_root, args.repeats)
    finally:
        sys.setrecursionlimit(limit)
    print(f"  {nodes:,} nodes; best of {args.repeats}, each of ours alternating with Karpathy's")
    print(f"  {'engine':<42} {'ms':>10}  {'Karpathy / ours':>15}")
    metrics["backward_nodes"] = nodes
    for name, label in (("backward_fast", "ours, fast.backward_fast (training)"), ("backward", "ours, Value.backward")):
        seconds, kseconds = times[name], times[f"karpathy vs {name}"]
        ratio = f"{kseconds / seconds:14.2f}x" if engine is not None else ""
        print(f"  {label:<42} {1000 * seconds:10.1f}  {ratio}  ({1e9 * seconds / nodes:.0f} ns/node)")
        metrics[f"{name}_ms"] = round(1000 * seconds, 1)
        if engine is not None:
            print(f"  {'  Karpathy micrograd 0.1.0, alternating':<42} {1000 * kseconds:10.1f}")
            metrics[f"karpathy_backward_ms_vs_{name}"] = round(1000 * kseconds, 1)
            metrics[f"karpathy_backward_over_{name}"] = round(kseconds / seconds, 2)
    print(f"  readable Value.backward / backward_fast: {times['backward'] / times['backward_fast']:.2f}x")
    metrics["readable_over_fast_backward"] = round(times["backward"] / times["backward_fast"], 2)
    print("\n(times are wall clock on a possibly shared machine; compare ratios from the same run)")
    wrote(write_results(out, metrics, time.perf_counter() - started, args.seed))
    return 0


if __name__ == "__main__":  # the old name of the command: python -m micrograd.bench [options]
    from .__main__ import main

    sys.stdout.reconfigure(line_buffering=True)  # show each result as it comes; the whole run takes minutes
    sys.exit(main(["bench", *sys.argv[1:]]))
