"""Benchmark: one MNIST training epoch, ours against the identical PyTorch CPU model.

    python -m mlp bench                          # 784-256-256-10, batch 128, float32, 1 thread
    python -m mlp bench --threads 2              # both sides (PyTorch gets the same count)

Both sides do the same work per step: gather a shuffled minibatch, forward, softmax
cross-entropy, backward, SGD with momentum, and read back the loss and the number of
correct predictions. Both start from the same weights and see the same batch order. The
two are timed alternately, several times, in the same process, so a busy machine slows
both alike; the best time of each is compared.

It also reports the achieved matmul throughput of our training step (the FLOPs of the
matrix products divided by the epoch's time) against this machine class's nominal
~100 GFLOP/s float32 per core, and against a large NumPy matmul measured in the same run.

PyTorch is imported lazily: without it the benchmark prints our timing and says so.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from shared.checks import check_memory
from shared.cli import header, positive_int
from shared.data import DataError
from shared.seeding import make_rng
from shared.timing import Timer, matmul_gflops

from .data import load
from .layers import Linear, make_mlp
from .losses import CrossEntropyLoss
from .optim import SGD
from .train import TrainConfig, memory_needed, train_epoch

NOMINAL_GFLOPS_PER_CORE = 100.0
PAUSE_SECONDS = 1.0


def epoch_flops(model, examples: int) -> float:
    """Matmul FLOPs of one training epoch: forward x@W, backward x^T@dy, and dy@W^T where needed."""
    per_example = 0
    for layer in model.layers:
        if isinstance(layer, Linear):
            products = 3 if layer.input_grad else 2
            per_example += products * 2 * layer.fan_in * layer.fan_out
    return float(per_example) * examples


def time_ours(model, X, y, batch_size, lr, seed) -> Timer:
    optimizer = SGD(model.parameters(), lr, momentum=0.9)
    with Timer() as timer:
        train_epoch(model, CrossEntropyLoss(), optimizer, X, y, batch_size, make_rng(seed))
    return timer


def make_torch_model(torch, model):
    """The same architecture in PyTorch, with our initial weights copied in (W transposed)."""
    modules = []
    for layer in model.layers:
        if isinstance(layer, Linear):
            linear = torch.nn.Linear(layer.fan_in, layer.fan_out)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(layer.W.data.T.copy()))
                linear.bias.copy_(torch.from_numpy(layer.b.data))
            modules.append(linear)
        else:
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


def time_torch(torch, net, X, y, batch_size, lr, seed) -> Timer:
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    with Timer() as timer:
        torch_epoch(torch, net, optimizer, Xt, yt, batch_size, seed)
    return timer


def torch_epoch(torch, net, optimizer, Xt, yt, batch_size, seed) -> None:
    order = torch.from_numpy(make_rng(seed).permutation(len(Xt)))  # the same batches as ours
    loss_sum, correct = 0.0, 0
    for start in range(0, len(Xt), batch_size):
        index = order[start : start + batch_size]
        xb, yb = Xt[index], yt[index]
        optimizer.zero_grad()
        logits = net(xb)
        loss = torch.nn.functional.cross_entropy(logits, yb)
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(yb)
        correct += int((logits.argmax(dim=1) == yb).sum())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The bench's own options (`--threads` and the other common ones come from shared.cli)."""
    parser.add_argument("--hidden", type=positive_int, nargs="*", default=[256, 256], metavar="UNITS")
    parser.add_argument("--batch-size", type=positive_int, default=128)
    parser.add_argument("--repeats", type=positive_int, default=3, help="timed epochs per implementation (best kept)")
    parser.add_argument("--synthetic", action="store_true", help="random data of MNIST's shape instead of MNIST")


def run(args: argparse.Namespace) -> int:
    """Time one epoch of ours and of PyTorch, both with `args.threads` threads (set by shared.cli)."""
    check_memory(memory_needed(TrainConfig(hidden=tuple(args.hidden), batch_size=args.batch_size)), "the bench")
    X = y = None
    if not args.synthetic:
        try:
            X, y = load("mnist", "train")
        except DataError as error:
            print(f"MNIST is not available ({str(error).splitlines()[0]}); timing random data of its shape")
    if X is None:
        rng = make_rng(0)
        X = rng.standard_normal((60000, 784), dtype=np.float32)
        y = rng.integers(0, 10, 60000)

    header(args)
    threads = args.threads
    model = make_mlp(784, args.hidden, 10, rng=0)
    flops = epoch_flops(model, len(X))
    sizes = "-".join(str(s) for s in [784, *args.hidden, 10])
    print(
        f"one MNIST epoch: {len(X)} examples, {sizes} MLP, batch {args.batch_size}, float32, "
        f"{threads} thread(s), {flops / 1e9:.1f} GFLOP of matmuls"
    )

    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed: timing ours only (pip install torch to compare)")
    if torch is not None:
        torch.set_num_threads(threads)  # the same count as ours
        net = make_torch_model(torch, model)

    lr = 0.01
    ours, theirs = [], []
    time_ours(model, X[:4096], y[:4096], args.batch_size, lr, 0)  # warm-up: allocator, BLAS buffers
    if torch is not None:
        time.sleep(PAUSE_SECONDS)
        time_torch(torch, net, X[:4096], y[:4096], args.batch_size, lr, 0)
    for repeat in range(args.repeats):
        # A pause before each switch lets the other library's idle threads stop spinning
        # (OpenBLAS and OpenMP busy-wait after work); otherwise they fight over the cores.
        time.sleep(PAUSE_SECONDS)
        ours.append(time_ours(model, X, y, args.batch_size, lr, repeat))
        if torch is not None:
            time.sleep(PAUSE_SECONDS)
            theirs.append(time_torch(torch, net, X, y, args.batch_size, lr, repeat))
        line = f"  run {repeat + 1}: ours {ours[-1].wall:.3f}s (CPU {ours[-1].cpu:.3f}s)"
        print(line + (f", PyTorch {theirs[-1].wall:.3f}s (CPU {theirs[-1].cpu:.3f}s)" if theirs else ""), flush=True)

    best, best_cpu = min(t.wall for t in ours), min(t.cpu for t in ours)
    print(
        f"ours:    best {best:.3f}s, median {statistics.median(t.wall for t in ours):.3f}s per epoch; "
        f"best CPU time {best_cpu:.3f}s"
    )
    if theirs:
        their_best, their_cpu = min(t.wall for t in theirs), min(t.cpu for t in theirs)
        print(
            f"PyTorch: best {their_best:.3f}s, median {statistics.median(t.wall for t in theirs):.3f}s per epoch; "
            f"best CPU time {their_cpu:.3f}s (torch {torch.__version__}, {torch.get_num_threads()} threads)"
        )
        print(
            f"ratio ours / PyTorch: {best / their_best:.2f}x wall-clock (best of each), "
            f"{best_cpu / their_cpu:.2f}x CPU time"
        )
    peak = matmul_gflops()
    nominal = NOMINAL_GFLOPS_PER_CORE * threads
    gflops, per_cpu_second = flops / best / 1e9, flops / best_cpu / 1e9
    print(
        f"training step matmul throughput: {gflops:.1f} GFLOP/s wall-clock = {gflops / nominal:.0%} of the nominal "
        f"{nominal:.0f} GFLOP/s ({threads} x {NOMINAL_GFLOPS_PER_CORE:.0f}); {per_cpu_second:.1f} GFLOP per CPU-second "
        f"= {per_cpu_second / NOMINAL_GFLOPS_PER_CORE:.0%} of one core's nominal; "
        f"a 1024^3 NumPy matmul reached {peak:.1f} GFLOP/s in this run"
    )
    return 0


if __name__ == "__main__":  # python -m mlp.bench: the same as python -m mlp bench
    from mlp.__main__ import main

    sys.exit(main(["bench", *sys.argv[1:]]))
