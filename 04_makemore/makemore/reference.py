"""The lectures' MLPs trained by PyTorch itself: how much do single runs vary?

    python -m makemore reference [--model mlp-bn] [--seeds 2147483647 1 2]
    python -m makemore reference --model wavenet --seeds 42 1

The lecture numbers the issue quotes (mlp: dev 2.170; mlp-bn: dev 2.1048) are each one run
with one random stream (torch.Generator seeded 2147483647). This module trains the same
networks in PyTorch the way the lecture notebooks do, on the lectures' split, 200,000 steps
of batch 32 at lr 0.1 then 0.01, init and minibatches drawn from one generator:

- `mlp` (lecture 2): C, W1, b1, W2, b2 all N(0, 1), tanh hidden layer of 200;
- `mlp-bn` (lecture 3): W1 scaled by (5/3)/sqrt(30), W2 by 0.01, BatchNorm with the batch's
  unbiased std and no epsilon, running mean/std with momentum 0.001;
- `wavenet` (lecture 5): context 8 fused two at a time, BatchNorm with torch's unbiased var,
  lr 0.1 then 0.01 after 150,000 steps (about 4 minutes a seed on one core).

For each seed it prints the final train and dev loss (BatchNorm's running statistics, as
the lecture evaluates), so our NumPy runs can be compared with the reference's own spread
rather than with one draw of it. (Lecture 2 drew its minibatches from torch's global
generator, unseeded; here they come from the seeded one.)

Not a benchmark and not a test: a reference run, 35-110 s per MLP seed on one core.
torch is imported only here, and only when this runs.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from .data import build_dataset, load_names, split_names
from .train import seed_spread, seed_spread_line

LECTURE_SEED = 2147483647  # torch.Generator().manual_seed(2147483647), as in every lecture


def train_lecture2(torch, data: dict, seed: int, steps: int = 200_000) -> dict:
    """Train lecture 2's MLP (Bengio et al. 2003) in PyTorch from `seed`; final train/dev loss."""
    functional = torch.nn.functional
    g = torch.Generator().manual_seed(seed)
    Xtr, Ytr = (torch.from_numpy(a.astype(np.int64)) for a in data["train"])
    n_embd, n_hidden, vocab, block = 10, 200, 27, Xtr.shape[1]
    C = torch.randn((vocab, n_embd), generator=g)
    W1 = torch.randn((n_embd * block, n_hidden), generator=g)
    b1 = torch.randn(n_hidden, generator=g)
    W2 = torch.randn((n_hidden, vocab), generator=g)
    b2 = torch.randn(vocab, generator=g)
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True

    def forward(X):
        return torch.tanh(C[X].view(len(X), -1) @ W1 + b1) @ W2 + b2  # (N, 27)

    for step in range(steps):
        ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
        loss = functional.cross_entropy(forward(Xtr[ix]), Ytr[ix])
        _sgd_step(torch, loss, parameters, 0.1 if step < steps // 2 else 0.01)
    with torch.no_grad():
        return {
            f"{part}_loss": functional.cross_entropy(forward(_tensor(torch, X)), _tensor(torch, Y)).item()
            for part, (X, Y) in data.items()
        }


def _sgd_step(torch, loss, parameters, lr: float) -> None:
    """The lectures' update: fresh gradients, then p -= lr * grad."""
    for p in parameters:
        p.grad = None
    loss.backward()
    with torch.no_grad():
        for p in parameters:
            p -= lr * p.grad


def _tensor(torch, array: np.ndarray):
    return torch.from_numpy(array.astype(np.int64))


def train_lecture3(torch, data: dict, seed: int, steps: int = 200_000) -> dict:
    """Train lecture 3's BatchNorm MLP in PyTorch from `seed`; final train/dev loss."""
    functional = torch.nn.functional
    g = torch.Generator().manual_seed(seed)
    Xtr, Ytr = (_tensor(torch, a) for a in data["train"])
    n_embd, n_hidden, vocab, block = 10, 200, 27, Xtr.shape[1]
    C = torch.randn((vocab, n_embd), generator=g)
    W1 = torch.randn((n_embd * block, n_hidden), generator=g) * (5 / 3) / (n_embd * block) ** 0.5
    W2 = torch.randn((n_hidden, vocab), generator=g) * 0.01
    b2 = torch.randn(vocab, generator=g) * 0  # zeros, but drawn: keeps the lecture's random stream
    gain, shift = torch.ones((1, n_hidden)), torch.zeros((1, n_hidden))
    mean_running, std_running = torch.zeros((1, n_hidden)), torch.ones((1, n_hidden))
    parameters = [C, W1, W2, b2, gain, shift]
    for p in parameters:
        p.requires_grad = True
    for step in range(steps):
        ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
        hpreact = C[Xtr[ix]].view(32, -1) @ W1  # (32, 200)
        mean, std = hpreact.mean(0, keepdim=True), hpreact.std(0, keepdim=True)  # unbiased std, no eps
        with torch.no_grad():
            mean_running = 0.999 * mean_running + 0.001 * mean
            std_running = 0.999 * std_running + 0.001 * std
        logits = torch.tanh(gain * (hpreact - mean) / std + shift) @ W2 + b2  # (32, 27)
        loss = functional.cross_entropy(logits, Ytr[ix])
        _sgd_step(torch, loss, parameters, 0.1 if step < steps // 2 else 0.01)

    @torch.no_grad()
    def split_loss(X, Y):
        X, Y = _tensor(torch, X), _tensor(torch, Y)
        hpreact = C[X].view(len(X), -1) @ W1
        logits = torch.tanh(gain * (hpreact - mean_running) / std_running + shift) @ W2 + b2
        return functional.cross_entropy(logits, Y).item()

    return {"train_loss": split_loss(*data["train"]), "dev_loss": split_loss(*data["dev"])}


def lecture_batchnorm(torch, x, gain, shift, running_mean, running_var, training: bool, momentum=0.1, eps=1e-5):
    """Lecture 3/5's BatchNorm1d in torch ops: statistics over every axis but the last, torch's
    `var` (Bessel's correction) both to normalize and in the running variance."""
    if training:
        axes = tuple(range(x.ndim - 1))
        mean, var = x.mean(axes), x.var(axes)
        with torch.no_grad():
            running_mean.lerp_(mean, momentum)
            running_var.lerp_(var, momentum)
    else:
        mean, var = running_mean, running_var
    return gain * (x - mean) / torch.sqrt(var + eps) + shift


def train_lecture5(torch, data: dict, seed: int, steps: int = 200_000) -> dict:
    """Train lecture 5's WaveNet-style model in PyTorch from `seed`; final train/dev loss.

    Lecture 5's classes, written out: Embedding N(0, 1); three times FlattenConsecutive(2),
    Linear without bias (N(0, 1) / sqrt(fan_in)), BatchNorm1d (torch's unbiased `var`, eps
    1e-5, momentum 0.1, statistics over every axis but the last) and tanh; a Linear head
    whose weights are scaled by 0.1 and bias is zero; lr 0.1, then 0.01 for the last quarter.
    """
    functional = torch.nn.functional
    g = torch.Generator().manual_seed(seed)
    Xtr, Ytr = (_tensor(torch, a) for a in data["train"])
    n_embd, n_hidden, vocab = 24, 128, 27
    C = torch.randn((vocab, n_embd), generator=g)
    weights, fan_in = [], 2 * n_embd
    for _ in range(3):
        weights.append(torch.randn((fan_in, n_hidden), generator=g) / fan_in**0.5)
        fan_in = 2 * n_hidden
    head_weight = torch.randn((n_hidden, vocab), generator=g) / n_hidden**0.5 * 0.1
    head_bias = torch.zeros(vocab)
    gains, shifts = [torch.ones(n_hidden) for _ in weights], [torch.zeros(n_hidden) for _ in weights]
    running = [(torch.zeros(n_hidden), torch.ones(n_hidden)) for _ in weights]
    parameters = [C, *weights, *gains, *shifts, head_weight, head_bias]
    for p in parameters:
        p.requires_grad = True

    def forward(X, training: bool):
        x = C[X]  # (B, 8, 24)
        for W, gain, shift, (mean_running, var_running) in zip(weights, gains, shifts, running):
            B, T, D = x.shape
            x = x.reshape(B, T // 2, 2 * D)  # fuse two neighbours: (B, T/2, 2D)
            if T == 2:
                x = x.squeeze(1)  # the top of the tree: (B, 2D)
            x = x @ W  # (B, T/2, H), or (B, H) at the top
            x = torch.tanh(lecture_batchnorm(torch, x, gain, shift, mean_running, var_running, training))
        return x @ head_weight + head_bias  # (B, 27)

    for step in range(steps):
        ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
        loss = functional.cross_entropy(forward(Xtr[ix], training=True), Ytr[ix])
        _sgd_step(torch, loss, parameters, 0.1 if step < steps * 3 // 4 else 0.01)
    with torch.no_grad():
        return {
            f"{part}_loss": functional.cross_entropy(forward(_tensor(torch, X), False), _tensor(torch, Y)).item()
            for part, (X, Y) in data.items()
        }


TRAINERS = {"mlp": train_lecture2, "mlp-bn": train_lecture3, "wavenet": train_lecture5}
BLOCK_SIZES = {"mlp": 3, "mlp-bn": 3, "wavenet": 8}


def run_reference(args) -> int:
    """The `reference` command: train `args.model` in PyTorch once per seed; print and save the losses."""
    from shared.cli import CLIError, header, prepare_out, wrote
    from shared.results import write_results

    try:
        import torch
    except ImportError:
        raise CLIError("the reference runs need PyTorch (pip install torch, CPU build)") from None
    seeds = args.seeds or [LECTURE_SEED, 1, 2]
    out = prepare_out(args)
    torch.set_num_threads(args.threads)
    header(args, model=args.model, seeds=" ".join(map(str, seeds)), torch_threads=torch.get_num_threads(), out=out)
    started = time.perf_counter()
    split = split_names(load_names(args.data), seed=args.split_seed)
    data = {part: build_dataset(split[part], BLOCK_SIZES[args.model]) for part in ("train", "dev")}
    runs = {}
    for seed in seeds:
        t0 = time.perf_counter()
        runs[str(seed)] = result = TRAINERS[args.model](torch, data, seed, args.steps)
        losses_text = f"train {result['train_loss']:.4f} | dev {result['dev_loss']:.4f}"
        print(f"{args.model}, torch seed {seed}: {losses_text} ({time.perf_counter() - t0:.0f} s)", flush=True)
    dev = [run["dev_loss"] for run in runs.values()]
    if len(dev) > 1:
        print(seed_spread_line(args.model, dev))
    results = {"model": args.model, "steps": args.steps, "runs": runs, "summary": {"dev_loss": seed_spread(dev)}}
    wrote(write_results(out, results, time.perf_counter() - started, seeds[0]))
    return 0


if __name__ == "__main__":  # python -m makemore.reference ... is python -m makemore reference ...
    from .__main__ import main

    sys.exit(main(["reference", *sys.argv[1:]]))
