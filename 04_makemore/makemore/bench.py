"""Benchmark: training steps per second of `mlp` and `wavenet`, ours (NumPy) next to PyTorch CPU.

    python -m makemore bench [--steps 2000] [--rounds 3] [--models mlp wavenet] [--threads 1]

One step = sample a minibatch of 32 contexts, forward, cross-entropy, backward, SGD update,
exactly as in training. The PyTorch model is the same network with the same weights
(nn.Embedding, nn.Linear, nn.BatchNorm1d, torch.optim.SGD; nn.BatchNorm1d normalizes with
the biased variance where ours, like the lectures, applies Bessel's correction: the same work
with a different constant, and torch's fastest BatchNorm). Both run on `--threads` threads (1):
these models are so small that per-operation overhead, not arithmetic, decides the time.
Rounds alternate ours/theirs so that load from other jobs on the machine hits both; the
best round of each is reported. torch is imported only here, and only when this runs.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from .models import build_model
from .optim import SGD

__all__ = ["torch_model"]


def torch_model(torch, ours, fused_batchnorm: bool = False):
    """A torch.nn model with the same architecture and weights as our ContextLM `ours`.

    Returns a module whose `parameters()` come in the same order as `ours.parameters()`
    (Linear weights transposed: torch stores them (out, in)). Our BatchNorm layers with
    `unbiased` become the lectures' BatchNorm written in torch ops, which computes exactly what
    ours does; `fused_batchnorm` uses `nn.BatchNorm1d` for all of them instead (the biased
    variance: the same work, torch's fast kernel), which is what the benchmark times.
    """
    from .layers import BatchNorm1d, Embedding, FlattenConsecutive, Linear, Tanh
    from .reference import lecture_batchnorm

    nn = torch.nn

    class Flatten(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.n = n

        def forward(self, x):
            B, T, C = x.shape
            x = x.reshape(B, T // self.n, C * self.n)
            return x.squeeze(1) if x.shape[1] == 1 else x

    class ChannelsLastBatchNorm(nn.BatchNorm1d):
        def forward(self, x):  # lecture 5 keeps channels last; torch wants (N, C, L)
            return super().forward(x.transpose(1, 2)).transpose(1, 2) if x.ndim == 3 else super().forward(x)

    class LectureBatchNorm(nn.Module):
        """The lectures' BatchNorm1d: statistics over all axes but the last, torch's (unbiased) var."""

        def __init__(self, dim, eps, momentum, dtype):
            super().__init__()
            self.eps, self.momentum = eps, momentum
            self.weight = nn.Parameter(torch.ones(dim, dtype=dtype))
            self.bias = nn.Parameter(torch.zeros(dim, dtype=dtype))
            self.register_buffer("running_mean", torch.zeros(dim, dtype=dtype))
            self.register_buffer("running_var", torch.ones(dim, dtype=dtype))

        def forward(self, x):
            statistics = (self.running_mean, self.running_var, self.training, self.momentum, self.eps)
            return lecture_batchnorm(torch, x, self.weight, self.bias, *statistics)

    dtype = torch.float64 if ours.parameters()[next(iter(ours.parameters()))].dtype == np.float64 else torch.float32
    modules = []
    with torch.no_grad():
        for layer in ours.net.layers:
            if isinstance(layer, Embedding):
                m = nn.Embedding(*layer.weight.shape, dtype=dtype)
                m.weight.copy_(torch.from_numpy(layer.weight))
            elif isinstance(layer, FlattenConsecutive):
                m = Flatten(layer.n)
            elif isinstance(layer, Linear):
                m = nn.Linear(*layer.weight.shape, bias=layer.bias is not None, dtype=dtype)
                m.weight.copy_(torch.from_numpy(layer.weight.T.copy()))
                if layer.bias is not None:
                    m.bias.copy_(torch.from_numpy(layer.bias))
            elif isinstance(layer, BatchNorm1d):
                kind = LectureBatchNorm if layer.unbiased and not fused_batchnorm else ChannelsLastBatchNorm
                m = kind(layer.gamma.size, eps=layer.eps, momentum=layer.momentum, dtype=dtype)
                m.weight.copy_(torch.from_numpy(layer.gamma))
                m.bias.copy_(torch.from_numpy(layer.beta))
            elif isinstance(layer, Tanh):
                m = nn.Tanh()
            else:
                raise TypeError(f"no torch counterpart for {type(layer).__name__}")
            modules.append(m)
    return nn.Sequential(*modules)


def _data(block_size: int):
    from .data import build_dataset, load_names, split_names

    try:
        names = load_names()
    except Exception as error:  # the benchmark still runs without the data set
        print(f"names.txt unavailable ({str(error).splitlines()[0]}); using random contexts", file=sys.stderr)
        rng = np.random.default_rng(0)
        return rng.integers(0, 27, (100_000, block_size)), rng.integers(0, 27, 100_000)
    return build_dataset(split_names(names).train, block_size)


def steps_ours(model, X, Y, steps: int, lr: float = 0.1, seed: int = 0) -> None:
    """`steps` training steps of our NumPy model (minibatch, forward, loss, backward, SGD)."""
    rng = np.random.default_rng(seed)
    optimizer = SGD(model.parameters(), model.gradients())
    for _ in range(steps):
        ix = rng.integers(0, len(X), 32)
        _, dlogits = model.loss(X[ix], Y[ix])
        model.zero_grad()
        model.backward(dlogits)
        optimizer.step(lr)


def steps_torch(torch, model, X, Y, steps: int, lr: float = 0.1) -> None:
    """`steps` training steps of the PyTorch model (the lecture's loop, with torch.optim.SGD)."""
    F = torch.nn.functional
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        ix = torch.randint(0, X.shape[0], (32,))
        loss = F.cross_entropy(model(X[ix]), Y[ix])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def run_bench(args) -> int:
    """The `bench` command: alternating rounds of ours and PyTorch's, best round of each, as a table."""
    from shared.cli import CLIError, header, prepare_out, wrote
    from shared.results import write_results
    from shared.timing import best_times

    try:
        import torch
    except ImportError:
        raise CLIError("the benchmark compares with PyTorch: pip install torch (CPU build)") from None
    out = prepare_out(args)
    torch.set_num_threads(args.threads)  # the same number of threads as NumPy's BLAS
    torch.manual_seed(args.seed)
    header(args, torch_threads=torch.get_num_threads(), out=out)
    started = time.perf_counter()
    print(f"numpy {np.__version__}, torch {torch.__version__}, batch 32,", end=" ")
    print(f"{args.steps} steps x {args.rounds} rounds (best round kept)")
    columns = ("model", "ours ms/step", "torch ms/step", "ours steps/s", "torch steps/s", "ratio")
    print(f"{columns[0]:<8} {columns[1]:>13} {columns[2]:>14} {columns[3]:>13} {columns[4]:>14} {columns[5]:>6}")
    results = {}
    for name in args.models:
        ours = build_model(name, rng=args.seed)
        theirs = torch_model(torch, ours, fused_batchnorm=True)
        X, Y = _data(ours.config.block_size)
        Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
        steps_ours(ours, X, Y, 200)  # warm-up
        steps_torch(torch, theirs, Xt, Yt, 200)
        best_ours, best_torch = best_times(
            lambda: steps_ours(ours, X, Y, args.steps),  # noqa: B023 (called before the loop moves on)
            lambda: steps_torch(torch, theirs, Xt, Yt, args.steps),  # noqa: B023
            args.rounds,
        )
        best_ours, best_torch = best_ours / args.steps, best_torch / args.steps
        ratio = best_ours / best_torch
        results[name] = {"ours_ms_per_step": best_ours * 1e3, "torch_ms_per_step": best_torch * 1e3, "ratio": ratio}
        print(
            f"{name:<8} {best_ours * 1e3:>13.3f} {best_torch * 1e3:>14.3f} {1 / best_ours:>13.0f}"
            f" {1 / best_torch:>14.0f} {ratio:>6.2f}  (ours/torch time per step; bar <= 0.80)",
            flush=True,
        )
    wrote(write_results(out, results, time.perf_counter() - started, args.seed))
    return 0


if __name__ == "__main__":  # python -m makemore.bench ... is python -m makemore bench ...
    from .__main__ import main

    sys.exit(main(["bench", *sys.argv[1:]]))
