"""python -m adam bench: time of one optimizer step over 10M float32 parameters, ours next to torch.optim.

The parameters are 100 tensors of 100,000 float32 values each; gradients are fixed random arrays, so only
the update itself is timed. For each optimizer (SGD with momentum, Adam, AdamW) the two implementations
are timed in alternation (`shared.timing.best_times`), `--repeats` times each after a warm-up step, and
the best of each is reported with the ratio ours / torch. PyTorch runs its `foreach` implementation (one
multi-tensor kernel per operation) with `--threads` threads, the same number as NumPy's BLAS (default 1).
Also printed: the peak memory a step of ours allocates (tracemalloc), which should be small next to the
40 MB of parameters, since every update is written into preallocated buffers.

The sizes are checked against the memory this machine has before anything is allocated. PyTorch is
imported only here, inside `run_bench`; without it, only our timings are printed.
`python -m adam.bench` is kept as another name for `python -m adam bench`.
"""

from __future__ import annotations

import tracemalloc

import numpy as np

from shared.checks import check_memory
from shared.seeding import make_rng
from shared.timing import best_times

from .nn import Parameter
from .optim import OPTIMIZERS

CASES = {
    "SGD-momentum": ("SGD", {"lr": 0.01, "momentum": 0.9}),
    "Adam": ("Adam", {"lr": 1e-3}),
    "AdamW": ("AdamW", {"lr": 1e-3, "weight_decay": 0.01}),
}
# float32 copies of the parameters one case holds at once: data, gradients, our parameters and two
# moment buffers, torch's parameters and two moment buffers, and room for torch's foreach temporaries.
COPIES = 10


def run_bench(tensors: int, size: int, repeats: int, only=None, threads: int = 1) -> None:
    total = tensors * size
    check_memory(COPIES * 4 * total, f"bench with {tensors} tensors of {size} float32 values")
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed: timing ours only (pip install torch to compare)")

    rng = make_rng(0)
    data = [rng.standard_normal(size, dtype=np.float32) for _ in range(tensors)]
    grads = [rng.standard_normal(size, dtype=np.float32) * 0.01 for _ in range(tensors)]
    print(f"one step over {total / 1e6:g}M float32 parameters in {tensors} tensors; best of {repeats}")
    if torch is not None:
        torch.set_num_threads(threads)
        print(f"torch {torch.__version__}, foreach=True, {torch.get_num_threads()} threads; ours: NumPy "
              f"{np.__version__}, {threads} BLAS threads (the update itself is single-threaded NumPy)")  # fmt: skip
    print(f"{'optimizer':14s} {'ours ms':>9s} {'torch ms':>9s} {'ratio':>7s} {'ours step allocates':>21s}")
    for label in only or CASES:
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
        theirs = None
        if torch is not None:
            weights = [torch.tensor(d) for d in data]
            for weight, grad in zip(weights, grads):
                weight.grad = torch.from_numpy(grad)
            theirs = getattr(torch.optim, name)(weights, foreach=True, **hyper).step
            theirs()
        ours_s, torch_s = best_times(ours.step, theirs, repeats)  # alternating: load hits both alike
        if theirs is not None:
            row = f"{1e3 * torch_s:9.1f} {ours_s / torch_s:6.2f}x"
        else:
            row = f"{'-':>9s} {'-':>7s}"
        print(f"{label:14s} {1e3 * ours_s:9.1f} {row} {peak / 1e6:17.2f} MB")


def main(argv: list[str] | None = None) -> int:
    from .__main__ import main as adam_main

    return adam_main(["bench", *(argv or [])])


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
