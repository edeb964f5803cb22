"""python -m micrograd.bench: time the moons training and one large backward, next to Karpathy's micrograd.

    python -m micrograd.bench --reference /tmp/mg/micrograd-0.1.0-py3-none-any.whl

Karpathy's micrograd (PyPI `micrograd` 0.1.0) is a comparison only, never a dependency,
and it is also called `micrograd`, so it is not imported by name: its two source files
are read from `--reference` (the wheel, or a folder holding `micrograd/engine.py`), from
$MICROGRAD_REFERENCE, or from an installed `micrograd` distribution, and executed as a
separate module. Get it with `pip download --no-deps micrograd==0.1.0 -d /tmp/mg`.
Without it, the bench times ours alone and says so. PyTorch, if installed, runs the same
training with float64 tensors, as a point of reference for what vectorisation buys.

Both engines train the same MLP from the same initial weights on the same points with
micrograd's demo loop, so their losses must agree (up to the order in which gradient
contributions are summed); the bench prints the largest difference.
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
from pathlib import Path

import numpy as np

from shared.seeding import make_rng

from .data import make_moons
from .nn import MLP
from .train import max_margin_loss, sgd_step, train

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
    texts, origin = _read_reference_sources(location)
    modules = {}
    for name in SOURCES:
        module = types.ModuleType("karpathy_" + name[:-3].replace("/", "."))
        module.__file__ = f"{origin}:{name}"
        modules[name] = module
    engine, nn = modules[SOURCES[0]], modules[SOURCES[1]]
    exec(compile(texts[SOURCES[0]], engine.__file__, "exec"), engine.__dict__)
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


def train_torch(model: MLP, X: np.ndarray, y: np.ndarray, steps: int, alpha: float):
    """The same training with PyTorch float64 tensors; (losses, seconds) or None without torch."""
    try:
        import torch
    except ImportError:
        return None
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


def time_backward(build, repeats: int) -> tuple[float, int]:
    """Best-of-`repeats` seconds of root.backward() on one graph from `build()`, and its node count."""
    root = build()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        root.backward()
        best = min(best, time.perf_counter() - start)
    nodes = len(root.topological_order()) if hasattr(root, "topological_order") else None
    return best, nodes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m micrograd.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default=None, help="Karpathy's micrograd: a wheel or a folder")
    parser.add_argument("--steps", type=int, default=100, help="training steps to time (default 100)")
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--graph-points", type=int, default=1000, help="points in the large-graph backward")
    parser.add_argument("--repeats", type=int, default=3, help="backward repeats (best is reported)")
    parser.add_argument("--skip-torch", action="store_true", help="leave out the PyTorch line")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.graph_points < 1 or args.repeats < 1:
        parser.error("--steps, --graph-points and --repeats must be positive")

    try:
        engine, knn, origin = load_reference(args.reference)
    except ReferenceNotFoundError as error:
        engine = knn = None
        print(f"note: {error}; timing ours alone")
    else:
        print(f"reference: Karpathy's micrograd from {origin}")

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
    start = time.perf_counter()
    train(fresh_model(), X, y, steps=args.steps)
    ours_seconds = time.perf_counter() - start
    print(f"  {'engine':<42} {'ms/step':>10}  {'time / ours':>11}")

    def report(label: str, seconds: float) -> None:
        print(f"  {label:<42} {1000 * seconds / args.steps:10.2f}  {seconds / ours_seconds:10.2f}x")

    report("ours (this repo)", ours_seconds)
    start = time.perf_counter()
    train(fresh_model(), X, y, steps=args.steps, pause_cycle_collector=False)
    report("ours, cycle collector left on", time.perf_counter() - start)
    if engine is not None:
        for label, pause in (("Karpathy's micrograd 0.1.0", False), ("  same, collector paused per step", True)):
            model = knn.MLP(2, [16, 16, 1])
            copy_weights(fresh_model(), model)
            report(label, train_reference(engine, model, X, y, args.steps, alpha, pause_gc=pause)[1])
    if not args.skip_torch:
        torch_result = train_torch(fresh_model(), X, y, args.steps, alpha)
        if torch_result is None:
            print("  (PyTorch not installed: its line is skipped)")
        else:
            report(f"PyTorch {torch_result[2]} CPU, float64 tensors", torch_result[1])

    print(f"\none backward() over a large graph: the demo loss over {args.graph_points} moons points")
    big_X, big_labels = make_moons(args.graph_points, 0.1, make_rng(args.seed))
    big_y = 2 * big_labels - 1
    model = fresh_model()
    seconds, nodes = time_backward(lambda: max_margin_loss(model, big_X, big_y, alpha)[0], args.repeats)
    print(f"  {'ours':<42} {1000 * seconds:10.1f} ms  ({nodes:,} nodes, {1e9 * seconds / nodes:.0f} ns/node)")
    if engine is not None:
        kmodel = knn.MLP(2, [16, 16, 1])
        copy_weights(model, kmodel)
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 20 * args.graph_points + 10_000))  # his topological sort recurses
        try:
            X_list, y_list = big_X.tolist(), big_y.astype(np.float64).tolist()
            kseconds, _ = time_backward(lambda: reference_step(engine, kmodel, X_list, y_list, alpha), args.repeats)
        finally:
            sys.setrecursionlimit(limit)
        print(f"  {'Karpathy micrograd 0.1.0':<42} {1000 * kseconds:10.1f} ms  ({kseconds / seconds:.2f}x ours)")
    print("\n(times are wall clock on a possibly shared machine; compare ratios from the same run)")
    return 0


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # show each result as it comes; the whole run takes minutes
    sys.exit(main())
