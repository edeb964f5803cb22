"""Benchmark: our batch-size-1 training loop next to the identical loop in PyTorch (CPU).

    python -m lecun1989 bench [--examples 2000] [--repeats 3] [--threads 1]   (or python -m lecun1989.bench)

Both loops start from the same weights and visit the same examples in the same order:
forward one digit, mean-squared error against its +-1 targets, backward, SGD update (the
paper's setup). The PyTorch side is the repro's formulation (F.pad with -1, F.conv2d,
three sliced convolutions concatenated for H2, autograd, torch.optim.SGD). Each side is
timed `--repeats` times, alternating (`shared.timing.best_times`), and the best time is
scaled to a 7291-digit pass. The ratio printed is ours / PyTorch's: below 1 means we are faster. At the end the two
sets of weights are compared, to show the loops computed the same thing.

Per-example work is tiny (about 65k multiply-adds forward), so this measures overhead:
Python calls, allocations, dispatch. PyTorch is imported here, inside functions, and only
for this comparison; the package itself never needs it.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from shared.cli import header, prepare_out, wrote
from shared.results import write_results
from shared.seeding import make_rng
from shared.timing import best_times

from .data import N_TRAIN
from .fast import FusedStep
from .layers import TANH_A, TANH_S
from .model import H2_PLANES, Config, Net, make_canvas
from .optim import SGD

__all__ = ["ours_pass", "run_bench", "torch_forward", "torch_params", "torch_pass"]


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


def ours_pass(fused: FusedStep, images: np.ndarray, targets: np.ndarray, lr: float) -> None:
    """One batch-size-1 SGD pass over `images` with our fused step (the training loop's)."""
    canvas = make_canvas(images)
    targets = targets.astype(np.float32)
    optimizer = SGD(fused.net.params, fused.net.grads, lr)
    step, update = fused.step, optimizer.step
    for i in range(len(canvas)):
        step(canvas[i], targets[i], 0)
        update()


def torch_pass(params: dict, images: np.ndarray, targets: np.ndarray, lr: float) -> None:
    """The same pass in PyTorch: forward, MSE, backward, torch.optim.SGD step."""
    import torch

    X = torch.from_numpy(images[:, None].astype(np.float32))  # (N, 1, 16, 16)
    Y = torch.from_numpy(targets.astype(np.float32))  # (N, 10)
    optimizer = torch.optim.SGD(list(params.values()), lr=lr)
    for i in range(len(X)):
        x, y = X[i : i + 1], Y[i : i + 1]
        loss = torch.mean((y - torch_forward(params, x)) ** 2)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def load_examples(n: int, seed: int):
    """The first n prepro training digits, or random ones (said so) when MNIST is absent."""
    from shared.data import DataError

    try:
        from .data import ensure_prepro

        data = ensure_prepro(1337, log=lambda msg: print(msg, file=sys.stderr))
        return data["x_train"][:n], data["y_train"][:n], "the prepro training digits"
    except (DataError, ValueError, OSError) as error:  # no data: fall back to random digits, and say so
        rng = make_rng(seed)
        images = rng.uniform(-1, 1, (n, 16, 16)).astype(np.float32)
        targets = -np.ones((n, 10), np.float32)
        targets[np.arange(n), rng.integers(0, 10, n)] = 1.0
        return images, targets, f"random digits (no prepro data: {str(error).splitlines()[0]})"


def run_bench(args) -> int:
    """`python -m lecun1989 bench`: time both loops (alternating, best of --repeats), print and save the ratio."""
    try:
        import torch
    except ImportError:
        print("error: the benchmark compares with PyTorch, which is not installed: pip install torch (CPU)",
              file=sys.stderr)  # fmt: skip
        return 2
    torch.set_num_threads(args.threads)  # the same count as our BLAS (shared.cli set it)
    out = prepare_out(args)
    images, targets, source = load_examples(args.examples, args.seed)
    header(args, examples=len(images), torch=f"{torch.__version__} threads {torch.get_num_threads()}")
    print(f"{len(images)} examples ({source})")
    net = Net(Config(), make_rng(args.seed))
    fused = FusedStep(net)
    start = net.params.copy()
    params = {}

    def ours():
        net.params[...] = start
        ours_pass(fused, images, targets, args.lr)

    def theirs():
        params.update({name: torch.tensor(value, requires_grad=True) for name, value in _views(net, start)})
        torch_pass(params, images, targets, args.lr)

    started = time.perf_counter()
    best_ours, best_torch = best_times(ours, theirs, args.repeats)  # alternating: load hits both sides
    scale = N_TRAIN / len(images)
    print(f"numpy (ours): {best_ours * scale:.3f} s/pass  ({1e6 * best_ours / len(images):.1f} us/example)")
    print(f"pytorch:      {best_torch * scale:.3f} s/pass  ({1e6 * best_torch / len(images):.1f} us/example)")
    print(f"ratio ours/pytorch: {best_ours / best_torch:.2f}x")
    difference = max(float(np.abs(params[name].detach().numpy() - net.p[name]).max()) for name in net.p)
    print(f"max |weight difference| after the pass: {difference:.2e}")
    metrics = {
        "examples": len(images),
        "ours_seconds_per_pass": best_ours * scale,
        "torch_seconds_per_pass": best_torch * scale,
        "ratio": best_ours / best_torch,
        "max_weight_difference": difference,
    }
    wrote(write_results(out, metrics, time.perf_counter() - started, args.seed))
    return 0


def _views(net: Net, flat: np.ndarray):
    """(name, array) pairs of `flat` laid out like net.params (copies, float32)."""
    offset = 0
    for name, view in net.p.items():
        yield name, flat[offset : offset + view.size].reshape(view.shape).copy()
        offset += view.size


def main(argv=None) -> int:
    """`python -m lecun1989.bench ...` is `python -m lecun1989 bench ...`."""
    from .__main__ import main as cli_main

    return cli_main(["bench", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
