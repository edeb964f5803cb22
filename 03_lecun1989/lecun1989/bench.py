"""Benchmark: our batch-size-1 training loop next to the identical loop in PyTorch (CPU).

    python -m lecun1989.bench [--examples 2000] [--repeats 3] [--threads 1]

Both loops start from the same weights and visit the same examples in the same order:
forward one digit, mean-squared error against its +-1 targets, backward, SGD update (the
paper's setup). The PyTorch side is the repro's formulation (F.pad with -1, F.conv2d,
three sliced convolutions concatenated for H2, autograd, torch.optim.SGD). Each side is
timed `--repeats` times, alternating, and the best time is scaled to a 7291-digit pass.
The ratio printed is ours / PyTorch's: below 1 means we are faster. At the end the two
sets of weights are compared, to show the loops computed the same thing.

Per-example work is tiny (about 65k multiply-adds forward), so this measures overhead:
Python calls, allocations, dispatch. PyTorch is imported here, inside functions, and only
for this comparison; the package itself never needs it.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before NumPy is imported: tiny matrices, one thread

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from shared.seeding import make_rng  # noqa: E402

from .data import N_TRAIN  # noqa: E402
from .layers import TANH_A, TANH_S  # noqa: E402
from .model import H2_PLANES, Config, Net, make_canvas  # noqa: E402
from .optim import SGD  # noqa: E402

__all__ = ["main", "time_ours", "time_torch", "torch_forward", "torch_params"]


def torch_params(net: Net):
    """The net's parameters as PyTorch leaf tensors (float32, requires_grad), same names."""
    import torch

    return {name: torch.tensor(value, dtype=torch.float32, requires_grad=True) for name, value in net.p.items()}


def torch_forward(p: dict, x, config: Config | None = None):
    """The repro's forward pass in PyTorch, with our activations: x (N, 1, 16, 16) -> (N, 10)."""
    import torch
    import torch.nn.functional as F

    config = config or Config()
    A, S = (TANH_A, TANH_S) if config.tanh == "scaled" else (1.0, 1.0)

    def act(z):
        return A * torch.tanh(S * z) if config.activation == "tanh" else torch.relu(z)

    x = F.pad(x, (2, 2, 2, 2), "constant", -1.0)
    x = act(F.conv2d(x, p["H1.weight"], stride=2) + p["H1.bias"])  # (N, 12, 8, 8)
    x = F.pad(x, (2, 2, 2, 2), "constant", -1.0)
    slices = [
        F.conv2d(x[:, list(planes)], p["H2.weight"][4 * g : 4 * g + 4], stride=2) for g, planes in enumerate(H2_PLANES)
    ]
    x = act(torch.cat(slices, dim=1) + p["H2.bias"])  # (N, 12, 4, 4)
    x = act(x.flatten(start_dim=1) @ p["H3.weight"] + p["H3.bias"])  # (N, 30)
    x = x @ p["out.weight"] + p["out.bias"]  # (N, 10)
    return A * torch.tanh(S * x) if config.output == "tanh" else x


def time_ours(net: Net, images: np.ndarray, targets: np.ndarray, lr: float) -> float:
    """Seconds for one batch-size-1 SGD pass over `images` with our fused step."""
    canvas = make_canvas(images)
    targets = targets.astype(np.float32)
    optimizer = SGD(net.params, net.grads, lr)
    step, update = net.step, optimizer.step
    started = time.perf_counter()
    for i in range(len(canvas)):
        step(canvas[i], targets[i], 0)
        update()
    return time.perf_counter() - started


def time_torch(params: dict, images: np.ndarray, targets: np.ndarray, lr: float) -> float:
    """Seconds for the same pass in PyTorch: forward, MSE, backward, torch.optim.SGD step."""
    import torch

    X = torch.from_numpy(images[:, None].astype(np.float32))  # (N, 1, 16, 16)
    Y = torch.from_numpy(targets.astype(np.float32))  # (N, 10)
    optimizer = torch.optim.SGD(list(params.values()), lr=lr)
    started = time.perf_counter()
    for i in range(len(X)):
        x, y = X[i : i + 1], Y[i : i + 1]
        loss = torch.mean((y - torch_forward(params, x)) ** 2)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - started


def load_examples(n: int, seed: int):
    """The first n prepro training digits, or random ones (said so) when MNIST is absent."""
    try:
        from .data import ensure_prepro

        data = ensure_prepro(1337, log=lambda msg: print(msg, file=sys.stderr))
        return data["x_train"][:n], data["y_train"][:n], "the prepro training digits"
    except Exception as error:  # any data problem: fall back to random digits, and say so
        rng = make_rng(seed)
        images = rng.uniform(-1, 1, (n, 16, 16)).astype(np.float32)
        targets = -np.ones((n, 10), np.float32)
        targets[np.arange(n), rng.integers(0, 10, n)] = 1.0
        return images, targets, f"random digits (no prepro data: {error})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lecun1989.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples per timed loop (default 2000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed loops per side, best kept (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (ours: BLAS env, default 1)")
    parser.add_argument("--lr", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=1337)
    args = parser.parse_args(argv)
    if args.examples < 1 or args.repeats < 1 or args.threads < 1:
        parser.error("--examples, --repeats and --threads must be positive")
    try:
        import torch
    except ImportError:
        print("the benchmark compares with PyTorch, which is not installed: pip install torch (CPU)", file=sys.stderr)
        return 1
    torch.set_num_threads(args.threads)
    images, targets, source = load_examples(args.examples, args.seed)
    blas_threads = os.environ.get("OPENBLAS_NUM_THREADS")
    print(
        f"{len(images)} examples ({source}); torch {torch.__version__} threads {torch.get_num_threads()}, "
        f"numpy {np.__version__} BLAS threads {blas_threads}"
    )
    net = Net(Config(), make_rng(args.seed))
    start = net.params.copy()
    ours, theirs = [], []
    for _ in range(args.repeats):  # alternate, so that load on a shared machine hits both sides
        net.params[...] = start
        ours.append(time_ours(net, images, targets, args.lr))
        params = {name: torch.tensor(start_view, requires_grad=True) for name, start_view in _views(net, start)}
        theirs.append(time_torch(params, images, targets, args.lr))
    scale = N_TRAIN / len(images)
    best_ours, best_torch = min(ours) * scale, min(theirs) * scale
    print(f"numpy (ours): {best_ours:.3f} s/pass  ({1e6 * min(ours) / len(images):.1f} us/example)")
    print(f"pytorch:      {best_torch:.3f} s/pass  ({1e6 * min(theirs) / len(images):.1f} us/example)")
    print(f"ratio ours/pytorch: {best_ours / best_torch:.2f}x")
    difference = max(float(np.abs(params[name].detach().numpy() - net.p[name]).max()) for name in net.p)
    print(f"max |weight difference| after the pass: {difference:.2e}")
    return 0


def _views(net: Net, flat: np.ndarray):
    """(name, array) pairs of `flat` laid out like net.params (copies, float32)."""
    offset = 0
    for name, view in net.p.items():
        yield name, flat[offset : offset + view.size].reshape(view.shape).copy()
        offset += view.size


if __name__ == "__main__":
    sys.exit(main())
