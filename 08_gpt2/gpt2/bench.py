"""Benchmarks against PyTorch CPU (Hugging Face's GPT2LMHeadModel), same threads, same run.

    python -m gpt2 bench [--threads 1] [--only forward|generate|train] [--repeats 3]   (= python -m gpt2.bench)

1. forward: tokens/s of the 124M architecture (random weights) on one sequence of T=256 tokens.
2. generate: tokens/s for 64 new tokens after a 512-token prompt (124M, greedy), with the KV cache
   and with a full recompute per token, ours and PyTorch's (HF `generate(use_cache=...)`).
3. train: one training step (forward, backward, clip, AdamW) of nanoGPT's CPU shakespeare_char
   configuration (4 layers, 4 heads, 128 wide, block 64, batch 12, vocab 65).
4. ddp (only with --only ddp): that training step with 1 and 2 MPI ranks (mpiexec, micro-batch 12
   each): tokens/s, scaling efficiency and the gradient all-reduce's share of the step.

Each figure is the best of `--repeats` runs after a warm-up (5x as many for the short training
step; one run for the slow recompute), ours and PyTorch's alternating so both see the same load.
PyTorch is imported lazily; without it, only our numbers are printed. Timing on a shared machine
is noisy: compare ratios, not totals.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from shared.timing import best_time as _timing_best_time
from shared.timing import best_times as _best_times


def _best_time(fn, repeats: int, warmup: bool = True) -> float:
    return _timing_best_time(fn, repeats, warmup=1 if warmup else 0)


def _torch(threads: int):
    try:
        import torch
        import transformers
    except ImportError:
        print("note: PyTorch / transformers not installed; printing our numbers only (pip install torch transformers)")
        return None, None
    torch.set_num_threads(threads)
    transformers.logging.set_verbosity_error()
    return torch, transformers


def _hf_model(transformers, torch, config, seed=0):
    torch.manual_seed(seed)
    hf_config = transformers.GPT2Config(
        vocab_size=config.vocab_size, n_positions=config.n_positions, n_embd=config.n_embd,
        n_layer=config.n_layer, n_head=config.n_head, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    )  # fmt: skip
    return transformers.GPT2LMHeadModel(hf_config)


def bench_forward(repeats: int, threads: int) -> dict:
    import numpy as np

    from .model import GPT, GPTConfig

    T = 256
    config = GPTConfig.preset("gpt2")
    model = GPT(config, seed=0).eval()
    idx = np.random.default_rng(0).integers(0, config.vocab_size, (1, T))
    torch, transformers = _torch(threads)
    theirs_fn = None
    if torch is not None:
        hf = _hf_model(transformers, torch, config).eval()
        ids = torch.tensor(idx)

        def theirs_fn():
            with torch.no_grad():
                hf(ids)

    ours, theirs = _best_times(lambda: model(idx), theirs_fn, repeats)
    result = {"tokens": T, "ours_seconds": ours, "ours_tokens_per_second": T / ours}
    if torch is not None:
        result.update(torch_seconds=theirs, torch_tokens_per_second=T / theirs, time_ratio=ours / theirs)
    return result


def bench_generate(repeats: int, threads: int, prompt_len: int = 512, new_tokens: int = 64) -> dict:
    import numpy as np

    from .model import GPT, GPTConfig
    from .sample import generate

    config = GPTConfig.preset("gpt2")
    model = GPT(config, seed=0)
    prompt = np.random.default_rng(0).integers(0, config.vocab_size, prompt_len).tolist()

    def ours(use_cache):
        return lambda: list(generate(model, [prompt], new_tokens, temperature=0.0, use_cache=use_cache))

    result = {"prompt_tokens": prompt_len, "new_tokens": new_tokens}
    cached = _best_time(ours(True), repeats)
    recompute = _best_time(ours(False), 1, warmup=False)  # the slow one: once, already warm from the above
    result.update(ours_cache_tokens_per_second=new_tokens / cached,
                  ours_recompute_tokens_per_second=new_tokens / recompute,
                  ours_cache_speedup=recompute / cached)  # fmt: skip
    torch, transformers = _torch(threads)
    if torch is not None:
        hf = _hf_model(transformers, torch, config).eval()
        ids = torch.tensor([prompt])
        mask = torch.ones_like(ids)

        def theirs(use_cache):
            kwargs = dict(max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False, use_cache=use_cache,
                          pad_token_id=0, attention_mask=mask)  # fmt: skip
            return lambda: hf.generate(ids, **kwargs)

        with torch.no_grad():
            t_cached = _best_time(theirs(True), repeats)
            t_recompute = _best_time(theirs(False), 1, warmup=False)
        result.update(torch_cache_tokens_per_second=new_tokens / t_cached,
                      torch_recompute_tokens_per_second=new_tokens / t_recompute,
                      cache_time_ratio=cached / t_cached, recompute_time_ratio=recompute / t_recompute)  # fmt: skip
    return result


TRAIN_SHAPES = {  # nanoGPT's shakespeare_char: the CPU overrides, and the GPU config (without dropout here)
    "cpu": (dict(vocab_size=65, n_positions=64, n_embd=128, n_layer=4, n_head=4), 12),
    "gpu": (dict(vocab_size=65, n_positions=256, n_embd=384, n_layer=6, n_head=6), 64),
}


def bench_train(repeats: int, threads: int, device: str = "cpu", shape: str = "cpu") -> dict:
    import numpy as np

    from .model import GPT, GPTConfig
    from .optim import AdamW, clip_grad_norm

    sizes, batch = TRAIN_SHAPES[shape]
    config = GPTConfig(**sizes)
    T = config.n_positions
    model = GPT(config, seed=0, device=device)
    optimizer = AdamW(model.params, lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 65, (batch, T)), rng.integers(0, 65, (batch, T))
    sync = model.xp.cuda.Device().synchronize if device == "cuda" else (lambda: None)

    def ours_step():
        model(x, y)
        model.backward()
        clip_grad_norm(model.parameters(), 1.0)
        optimizer.step()
        model.zero_grad()
        sync()

    torch, transformers = _torch(threads)
    torch_step = None
    if torch is not None:
        where = "cuda" if device == "cuda" else "cpu"
        hf = _hf_model(transformers, torch, config).to(where).train()
        params = list(hf.parameters())
        groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
                  {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]  # fmt: skip
        torch_opt = torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.99))
        tx, ty = torch.tensor(x).to(where), torch.tensor(y).to(where)
        if device == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = True  # as nanoGPT (and CUPY_TF32=1 for ours)

        def torch_step():
            logits = hf(tx).logits
            loss = torch.nn.functional.cross_entropy(logits.view(-1, 65), ty.view(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            torch_opt.step()
            torch_opt.zero_grad(set_to_none=True)
            if device == "cuda":
                torch.cuda.synchronize()

    ours, theirs = _best_times(ours_step, torch_step, 5 * repeats)  # short steps: more repeats
    result = {"device": device, "shape": shape, "tokens_per_step": batch * T, "ours_step_seconds": ours}
    if torch is not None:
        result.update(torch_step_seconds=theirs, time_ratio=ours / theirs)
    return result


def reference_training(repeats: int, threads: int, seed: int = 1337) -> dict:
    """Not a timing: the repro's run (nanoGPT's CPU config, 2000 steps) with PyTorch doing the math.

    Same data, batches, schedule, AdamW groups, clipping and final 200-batch evaluation as
    `python -m gpt2 repro`; only the model (HF GPT2LMHeadModel, its own random init) and the
    autograd are PyTorch's. It tells how much of a gap to nanoGPT's 1.88 is the architecture and
    the seed rather than our code. Run with --only reference_train (about as long as the repro).
    """
    import numpy as np

    from shared.seeding import make_rng

    from .__main__ import REPRO_CONFIG
    from .model import GPTConfig
    from .optim import cosine_lr
    from .train import TrainConfig, get_batch, load_data

    torch, transformers = _torch(threads)
    if torch is None:
        return {}
    cfg = TrainConfig(**REPRO_CONFIG, seed=seed)
    tokenizer, train_ids, val_ids = load_data("char")
    config = GPTConfig(vocab_size=tokenizer.vocab_size, n_positions=cfg.block_size, n_embd=cfg.n_embd,
                       n_layer=cfg.n_layer, n_head=cfg.n_head)  # fmt: skip
    model = _hf_model(transformers, torch, config, seed=seed).train()
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]  # fmt: skip
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    rng = make_rng(seed + 1)

    def loss_of(x, y):
        logits = model(torch.from_numpy(x)).logits
        return torch.nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), torch.from_numpy(y).view(-1))

    start = time.perf_counter()
    for step in range(cfg.max_iters):
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(step, cfg.lr, cfg.min_lr, cfg.warmup_iters, cfg.decay_iters)
        loss = loss_of(*get_batch(train_ids, cfg.batch_size, cfg.block_size, rng))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if (step + 1) % 250 == 0:
            print(f"  step {step + 1}: train loss {loss.item():.4f}", flush=True)
    model.eval()
    eval_rng = make_rng(seed + 4)  # the repro's final-evaluation batches
    with torch.no_grad():
        losses = [loss_of(*get_batch(val_ids, cfg.batch_size, cfg.block_size, eval_rng)).item()
                  for _ in range(cfg.final_eval_iters)]  # fmt: skip
    return {"torch_val_loss": float(np.mean(losses)), "seconds": time.perf_counter() - start}


def ddp_worker(steps: int, batch: int) -> None:
    """One rank of `bench_ddp` (run under mpiexec): time `steps` training steps on random tokens.

    Each rank trains nanoGPT's CPU configuration on its own micro-batch of `batch` (weak scaling:
    N ranks process N times the tokens per step); rank 0 prints one JSON line.
    """
    import numpy as np

    from .ddp import MPIWorld
    from .model import GPT, GPTConfig
    from .optim import AdamW, clip_grad_norm

    world = MPIWorld()
    config, _ = TRAIN_SHAPES["cpu"]
    model = GPT(GPTConfig(**config), seed=0)
    optimizer = AdamW(model.params, lr=1e-3, weight_decay=0.1)
    rng = np.random.default_rng(world.rank)
    T = config["n_positions"]

    def step():
        x = rng.integers(0, config["vocab_size"], (batch, T))
        model(x, np.roll(x, -1, axis=1))
        model.backward()
        if world.size > 1:
            world.average_gradients(model.parameters(), 0.0)
        clip_grad_norm(model.parameters(), 1.0)
        optimizer.step()
        model.zero_grad()

    for _ in range(3):  # warm-up
        step()
    world.comm.Barrier()
    comm_before, tick = world.comm_seconds(), time.perf_counter()
    for _ in range(steps):
        step()
    seconds = (time.perf_counter() - tick) / steps
    comm = (world.comm_seconds() - comm_before) / steps
    seconds, comm = world.comm.allreduce(seconds, op=world.MPI.MAX), world.comm.allreduce(comm, op=world.MPI.MAX)
    if world.is_main:
        print(json.dumps({"step_seconds": seconds, "allreduce_seconds": comm, "parameters": model.num_parameters()}))


def bench_ddp(repeats: int, threads: int, steps: int = 30) -> dict:
    """Tokens/s of nanoGPT's CPU training step with 1 and 2 MPI ranks (weak scaling, micro-batch 12 each).

    Scaling efficiency = tokens/s(2 ranks) / (2 x tokens/s(1 rank)); the all-reduce share is the
    time rank 0 spends in the gradient Allreduce (waiting for the other rank included) per step.
    """
    import os
    import shutil
    import subprocess

    mpiexec = Path(sys.executable).with_name("mpiexec")
    mpiexec = str(mpiexec) if mpiexec.exists() else shutil.which("mpiexec")
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        mpiexec = None
    if mpiexec is None:
        raise ValueError('--only ddp needs mpi4py and mpiexec: pip install -e "08_gpt2[mpi]"')
    _, batch = TRAIN_SHAPES["cpu"]
    T = TRAIN_SHAPES["cpu"][0]["n_positions"]
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    code = f"from gpt2.bench import ddp_worker; ddp_worker({steps}, {batch})"
    best = {}
    for ranks in (1, 2):
        for _ in range(repeats):
            done = subprocess.run(
                [mpiexec, "-n", str(ranks), sys.executable, "-c", code], capture_output=True, text=True, env=env
            )
            if done.returncode != 0:
                raise ValueError(f"mpiexec -n {ranks} failed: {done.stderr.strip()[-500:]}")
            run = json.loads(done.stdout.strip().splitlines()[-1])
            if ranks not in best or run["step_seconds"] < best[ranks]["step_seconds"]:
                best[ranks] = run
    n = best[1]["parameters"]
    rate = {ranks: ranks * batch * T / best[ranks]["step_seconds"] for ranks in best}
    return {
        "parameters": n,
        "tokens_per_rank_step": batch * T,
        "step_gflop_per_rank": 6 * n * batch * T / 1e9,
        "allreduce_mb_per_step": 4 * (n + 1) / 1e6,
        "ring_mb_sent_per_rank_2": 2 * (2 - 1) / 2 * 4 * (n + 1) / 1e6,
        "tokens_per_s_1_rank": rate[1],
        "tokens_per_s_2_ranks": rate[2],
        "scaling_efficiency": rate[2] / (2 * rate[1]),
        "step_ms_1_rank": 1e3 * best[1]["step_seconds"],
        "step_ms_2_ranks": 1e3 * best[2]["step_seconds"],
        "allreduce_ms_2_ranks": 1e3 * best[2]["allreduce_seconds"],
        "allreduce_share_2_ranks": best[2]["allreduce_seconds"] / best[2]["step_seconds"],
    }


BENCHES = {"forward": bench_forward, "generate": bench_generate, "train": bench_train,
           "reference_train": reference_training, "ddp": bench_ddp}  # fmt: skip
BARS = {"forward": [("time_ratio", 1.0, "<=")],
        "generate": [("cache_time_ratio", 1.0, "<="), ("ours_cache_speedup", 10.0, ">=")],
        "train": [("time_ratio", 1.5, "<=")]}  # fmt: skip


def run_benches(args, out: Path) -> Path:
    """Run the benches named by --only (default: forward, generate, train); print them; write bench.json."""
    if args.prompt_tokens + args.new_tokens > 1024:
        raise ValueError("--prompt-tokens + --new-tokens must fit GPT-2's context of 1024")
    results = {}
    names = args.only or (["forward", "generate", "train"] if args.device == "cpu" else ["train"])
    if args.device != "cpu" and names != ["train"]:
        raise ValueError("--device cuda measures the training step only (--only train)")
    for name in names:
        print(f"--- {name} (threads={args.threads}) ---", flush=True)
        if name == "generate":
            results[name] = bench_generate(args.repeats, args.threads, args.prompt_tokens, args.new_tokens)
        elif name == "train":
            results[name] = bench_train(args.repeats, args.threads, args.device, args.train_shape)
        else:
            results[name] = BENCHES[name](args.repeats, args.threads)
        for key, value in results[name].items():
            print(f"  {key:36s} {value:.4g}" if isinstance(value, float) else f"  {key:36s} {value}")
        for key, bar, sense in BARS.get(name, []):
            if key in results[name]:
                value = results[name][key]
                met = value <= bar if sense == "<=" else value >= bar
                print(f"  bar: {key} {sense} {bar}: {'met' if met else 'NOT met'} ({value:.3g})", flush=True)
    path = out / "bench.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    """python -m gpt2.bench ... is python -m gpt2 bench ..."""
    from .__main__ import app

    return app.main(["bench", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
