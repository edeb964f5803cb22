"""python -m adam.bench: time of one optimizer step over 10M float32 parameters, ours next to torch.optim.

The parameters are 100 tensors of 100,000 float32 values each (the issue's setting); gradients are fixed
random arrays, so only the update itself is timed. For each optimizer (SGD with momentum, Adam, AdamW) the
two implementations are timed in alternation, `--repeats` times each after two warm-up steps, and the
median of each is reported with the ratio ours / torch. PyTorch runs its `foreach` implementation (one
multi-tensor kernel per operation) with its default thread count; ours is plain single-threaded NumPy.
Also printed: the peak memory a step of ours allocates (tracemalloc), which should be small next to the
40 MB of parameters, since every update is written into preallocated buffers.

PyTorch is imported only here, inside `main`; without it, only our timings are printed.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import numpy as np

from shared.seeding import make_rng

from .nn import Parameter
from .optim import OPTIMIZERS

CASES = {
    "SGD-momentum": ("SGD", {"lr": 0.01, "momentum": 0.9}),
    "Adam": ("Adam", {"lr": 1e-3}),
    "AdamW": ("AdamW", {"lr": 1e-3, "weight_decay": 0.01}),
}


def _median_time(step, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m adam.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--tensors", type=int, default=100)
    parser.add_argument("--size", type=int, default=100_000, help="elements per tensor")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--only", action="append", choices=sorted(CASES))
    parser.add_argument("--torch-threads", type=int, default=None, help="torch.set_num_threads (default: its own)")
    args = parser.parse_args(argv)
    if args.tensors < 1 or args.size < 1 or args.repeats < 1:
        parser.error("--tensors, --size and --repeats must be positive")
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed: timing ours only (pip install torch to compare)")

    rng = make_rng(0)
    data = [rng.standard_normal(args.size, dtype=np.float32) for _ in range(args.tensors)]
    grads = [rng.standard_normal(args.size, dtype=np.float32) * 0.01 for _ in range(args.tensors)]
    total = args.tensors * args.size
    print(f"one step over {total / 1e6:g}M float32 parameters in {args.tensors} tensors; median of {args.repeats}")
    if torch is not None:
        if args.torch_threads:
            torch.set_num_threads(args.torch_threads)
        threads = torch.get_num_threads()
        print(f"torch {torch.__version__}, foreach=True, {threads} threads; ours: NumPy {np.__version__}, 1 thread")
    print(f"{'optimizer':14s} {'ours ms':>9s} {'torch ms':>9s} {'ratio':>7s} {'ours step allocates':>21s}")
    for label in args.only or CASES:
        name, hyper = CASES[label]
        params = [Parameter(d.copy()) for d in data]
        for param, grad in zip(params, grads):
            param.grad = grad
        ours = OPTIMIZERS[name](params, **hyper)
        for _ in range(2):
            ours.step()
        tracemalloc.start()
        ours.step()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        if torch is not None:
            tensors = [torch.tensor(d) for d in data]
            for tensor, grad in zip(tensors, grads):
                tensor.grad = torch.from_numpy(grad)
            theirs = getattr(torch.optim, name)(tensors, foreach=True, **hyper)
            for _ in range(2):
                theirs.step()
        ours_times, torch_times = [], []
        for _ in range(args.repeats):  # alternate, so load from other jobs hits both alike
            ours_times += _median_time(ours.step, 1)
            if torch is not None:
                torch_times += _median_time(theirs.step, 1)
        ours_ms = 1e3 * statistics.median(ours_times)
        if torch is not None:
            torch_ms = 1e3 * statistics.median(torch_times)
            print(f"{label:14s} {ours_ms:9.1f} {torch_ms:9.1f} {ours_ms / torch_ms:6.2f}x {peak / 1e6:17.2f} MB")
        else:
            print(f"{label:14s} {ours_ms:9.1f} {'-':>9s} {'-':>7s} {peak / 1e6:17.2f} MB")


if __name__ == "__main__":
    main()
