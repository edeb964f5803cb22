"""python -m gpt2 <command>: train (the default), sample, repro, figures, bench, reference.

python -m gpt2                                   # = train: 500 iterations of nanoGPT's CPU config + a sample
python -m gpt2 train --max-iters 2000            # char-level tiny shakespeare (nanoGPT's CPU config)
python -m gpt2 train --tokenizer gpt2            # the same on GPT-2 BPE tokens
python -m gpt2 train --resume                    # continue runs/08_gpt2/train from its ckpt.npz
mpiexec -n 2 python -m gpt2 train --ddp          # data parallel over 2 MPI ranks (pip install "08_gpt2[mpi]")
python -m gpt2 train --ranks 2                   # the same: starts mpiexec itself
python -m gpt2 sample --model runs/08_gpt2/train/model --prompt "ROMEO:" --max-new-tokens 200
python -m gpt2 repro                             # the README's results table -> results.json
python -m gpt2 figures --run runs/08_gpt2/train  # loss curves and attention maps of a run
python -m gpt2 bench                             # against PyTorch CPU (= python -m gpt2.bench)
python -m gpt2 reference --seeds 1337 1338       # nanoGPT's recipe in PyTorch (= python -m gpt2.reference)
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from shared.cli import (
    App,
    CLIError,
    bounded_int,
    header,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    prepare_out,
    probability,
    wrote,
)

from .device import DEVICES

REPRO_NAME = "shakespeare_char_cpu"
REPRO_SEED = 1337
# nanoGPT README, "I only have a macbook": train_shakespeare_char.py with these CPU overrides.
REPRO_CONFIG = dict(
    n_layer=4,
    n_head=4,
    n_embd=128,
    block_size=64,
    batch_size=12,
    max_iters=2000,
    lr_decay_iters=2000,
    dropout=0.0,
    eval_iters=20,
    eval_interval=250,
    lr=1e-3,
    min_lr=1e-4,
    warmup_iters=100,
    beta2=0.99,
    weight_decay=0.1,
    grad_clip=1.0,
)

# nanoGPT's config/train_shakespeare_char.py (its GPU configuration): keep the best-val checkpoint.
CONFIGS = {
    "shakespeare-char-cpu": dict(REPRO_CONFIG, max_iters=500, lr_decay_iters=None),  # = the defaults
    "shakespeare-char-gpu": dict(  # the CPU run's schedule and optimizer, a larger model, batch and context
        REPRO_CONFIG,
        n_layer=6,
        n_head=6,
        n_embd=384,
        block_size=256,
        batch_size=64,
        dropout=0.2,
        max_iters=5000,
        lr_decay_iters=5000,
        eval_iters=200,
        final_eval_iters=200,
    ),
}
CONFIG_DEVICE = {"shakespeare-char-cpu": "cpu", "shakespeare-char-gpu": "cuda"}

# Limits on sizes from flags, far above anything this CPU code trains, so a typo is an error, not a swap storm.
MAX_SIZE = {"n_layer": 256, "n_head": 256, "n_embd": 16384, "block_size": 65536, "batch_size": 1 << 20}
TRAIN_HELP = {
    "tokenizer": "characters (65 symbols) or GPT-2's BPE (50257 tokens)",
    "block_size": "context length = n_positions",
    "batch_size": "sequences per micro-batch",
    "grad_accum": "micro-batches per optimizer step",
    "max_iters": "optimizer steps",
    "lr": "peak learning rate",
    "min_lr": "learning rate at the end of the cosine decay",
    "warmup_iters": "linear warmup steps",
    "lr_decay_iters": "step where the cosine reaches min_lr (default: max_iters)",
    "weight_decay": "AdamW decay of 2-D weights",
    "grad_clip": "max global gradient norm, 0 = off",
    "dropout": "dropout rate (embeddings, attention, residuals)",
    "eval_interval": "steps between evaluations and checkpoints",
    "eval_iters": "batches per evaluation",
    "final_eval_iters": "batches for the final evaluation",
    "sample_tokens": "tokens sampled at the end, 0 = none",
}
FLOAT_TYPES = {"lr": positive_float, "beta1": probability, "beta2": probability, "dropout": probability}
NON_NEGATIVE = ("max_iters", "warmup_iters", "lr_decay_iters", "sample_tokens")


def _train_type(name: str, value):
    if isinstance(value, str):
        return str
    if isinstance(value, float):
        return FLOAT_TYPES.get(name, non_negative_float)
    if name in MAX_SIZE:
        return bounded_int(1, MAX_SIZE[name])
    return non_negative_int if name in NON_NEGATIVE else positive_int


# --------------------------------------------------------------------------- commands


def _rank_command(args) -> list[str]:
    """`python -m gpt2 train --ddp ...` with the options of this `train --ranks N` (for mpiexec)."""
    from .train import TrainConfig

    argv = [sys.executable, "-m", "gpt2", "train", "--ddp", "--seed", str(args.seed), "--threads", str(args.threads)]
    argv += ["--zero", str(args.zero)]
    for name in [f.name for f in fields(TrainConfig) if f.name != "seed"] + ["config", "device", "max_minutes", "out"]:
        if getattr(args, name) is not None:
            argv += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    if args.force:
        argv.append("--force")
    if args.resume is not None:
        argv += ["--resume"] + ([args.resume] if args.resume else [])
    return argv


def _start_ranks(args) -> None:
    """train --ranks N: start N ranks with the mpiexec installed beside this Python (the mpich wheel) or on PATH."""
    import shutil
    import subprocess

    if args.ddp:
        raise CLIError("--ranks starts mpiexec itself; under mpiexec, use --ddp instead")
    mpiexec = Path(sys.executable).with_name("mpiexec")
    mpiexec = str(mpiexec) if mpiexec.exists() else shutil.which("mpiexec")
    if mpiexec is None:
        raise CLIError('--ranks needs mpiexec: pip install -e "08_gpt2[mpi]" (mpi4py and the mpich wheel)')
    code = subprocess.run([mpiexec, "-n", str(args.ranks), *_rank_command(args)]).returncode
    if code:
        raise SystemExit(code)  # the ranks printed their error


def cmd_train(args) -> None:
    from .train import TrainConfig, train

    if args.ranks is not None:
        return _start_ranks(args)

    preset, defaults = CONFIGS.get(args.config, {}), TrainConfig()
    options = {}
    for f in fields(TrainConfig):
        if f.name != "seed":  # an option given on the command line wins over the --config preset
            given = getattr(args, f.name)
            options[f.name] = given if given is not None else preset.get(f.name, getattr(defaults, f.name))
    cfg = TrainConfig(**options, seed=args.seed)
    device = args.device or CONFIG_DEVICE.get(args.config, "cpu")
    keep_best = args.config == "shakespeare-char-gpu"
    out = Path(args.out) if args.out else Path("runs") / args.folder / args.command
    resume = None
    if args.resume is not None:
        resume = out / "ckpt.npz" if args.resume == "" else Path(args.resume)
    own_run = resume is not None and resume.resolve().parent == out.resolve()
    world = None
    if args.ddp:
        from .ddp import MPIWorld

        world = MPIWorld()
        if device != "cpu":
            raise CLIError("--ddp runs on the CPU (--device cpu); NCCL between GPUs is not written yet")
        out = world.on_main(lambda: prepare_out(args, resumable=own_run))  # rank 0 checks and makes --out
    else:
        out = prepare_out(args, resumable=own_run)
    if args.zero and world is None:
        raise CLIError("--zero 1 shards the optimizer state over ranks: use it with --ddp under mpiexec -n N")
    main = world is None or world.is_main
    if main:
        ranks = {} if world is None else {"ranks": f"{world.size} (zero {args.zero})"}
        header(args, out=out, device=device, config=args.config or "defaults", **ranks)
    max_seconds = None if args.max_minutes is None else 60 * args.max_minutes
    options = dict(device=device, keep_best=keep_best, max_seconds=max_seconds, world=world, zero=args.zero)
    try:
        train(cfg, out, resume=resume, **options)
    except (ValueError, OSError):
        if main:
            raise
        raise SystemExit(2) from None  # every rank meets the same bad input: rank 0 alone prints the error line
    if main:
        wrote(out / "results.json", out / "loss.png", out / "ckpt.npz", out / "model")


def cmd_repro(args) -> None:
    import time

    import numpy as np

    from shared.results import write_results

    from .train import TrainConfig, train

    out = prepare_out(args)
    seeds = args.seeds or [args.seed]
    header(args, out=out, seeds=" ".join(map(str, seeds)))
    rows, started = {}, time.perf_counter()
    for seed in seeds:
        run_out = out if len(seeds) == 1 else out / f"seed{seed}"
        metrics = train(TrainConfig(**REPRO_CONFIG, seed=seed), run_out)
        rows[str(seed)] = metrics["val_loss"]
        print(f"{REPRO_NAME} seed {seed}: val loss {metrics['val_loss']:.4f} (nanoGPT: 1.88)", flush=True)
    if len(seeds) > 1:
        values = np.array(list(rows.values()))
        summary = {"val_loss_by_seed": rows, "val_loss_mean": float(values.mean()), "val_loss_std": float(values.std())}
        print(f"{REPRO_NAME}: val loss {values.mean():.4f} +- {values.std():.4f} over {len(seeds)} seeds")
        path = write_results(out, {REPRO_NAME: summary}, time.perf_counter() - started, seeds[0])
        wrote(path)
    else:
        wrote(out / "results.json", out / "loss.png", out / "model")


def cmd_sample(args) -> None:
    import codecs

    from .model import GPT
    from .sample import generate
    from .tokenizer import load_tokenizer_file, start_tokens

    if args.top_p is not None and not 0 < args.top_p <= 1:
        raise CLIError(f"--top-p must be in (0, 1], got {args.top_p}")
    model = GPT.from_pretrained(args.model)
    if args.device != "cpu":
        from .device import array_module

        xp = array_module(args.device)
        for p in model.params.values():
            p.data = xp.asarray(p.data)
        model.device, model.xp = args.device, xp
    tokenizer = load_tokenizer_file(Path(args.model) / "tokenizer.json")
    if tokenizer.vocab_size > model.config.vocab_size:
        raise ValueError(
            f"the tokenizer has {tokenizer.vocab_size} tokens but the model only {model.config.vocab_size}"
        )
    texts = args.prompt or [tokenizer.decode(start_tokens(tokenizer))]
    prompts = [tokenizer.encode(text, allow_eot=True) or start_tokens(tokenizer) for text in texts]
    n_positions = model.config.n_positions
    room = n_positions - max(len(p) for p in prompts)
    if room < 0 and not args.sliding_window:
        raise ValueError(f"a prompt has {-room + n_positions} tokens; the model's context is {n_positions}")
    import numpy as np

    rng = np.random.default_rng(args.seed)
    stream = generate(
        model,
        prompts,
        args.max_new_tokens,
        args.temperature,
        args.top_k,
        args.top_p,
        rng,
        use_cache=not args.no_cache,
        sliding_window=args.sliding_window,
    )
    produced = [[] for _ in prompts]
    if len(prompts) == 1:  # stream the text as it is produced (a token may end mid-character)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        sys.stdout.write(texts[0])
        for tokens in stream:
            produced[0].append(int(tokens[0]))
            sys.stdout.write(decoder.decode(tokenizer.decode_bytes([int(tokens[0])])))
            sys.stdout.flush()
        sys.stdout.write(decoder.decode(b"", final=True) + "\n")
    else:
        for tokens in stream:
            for row, token in zip(produced, tokens):
                row.append(int(token))
        for number, (text, row) in enumerate(zip(texts, produced)):
            print(f"=== prompt {number + 1} ===\n{text}{tokenizer.decode(row)}")
    if len(produced[0]) < args.max_new_tokens:
        print(
            f"[stopped after {len(produced[0])} new tokens: the context is full at n_positions={n_positions}; "
            f"use --sliding-window to continue]",
            file=sys.stderr,
        )


def cmd_figures(args) -> None:
    from .figures import make_figures

    run = Path(args.run)
    if not (run / "ckpt.npz").is_file() or not (run / "model").is_dir():
        raise CLIError(f"{run} holds no finished training run (ckpt.npz and model/); run `python -m gpt2 train` first")
    out = prepare_out(args)
    header(args, run=run, out=out)
    wrote(*make_figures(run, out, prompt=args.prompt))


def cmd_bench(args) -> None:
    from .bench import run_benches

    out = prepare_out(args)
    header(args, out=out)
    wrote(run_benches(args, out))


# --------------------------------------------------------------------------- the command line


app = App("gpt2", "08_gpt2", __doc__, default="train")


def _add_train_options(parser: argparse.ArgumentParser) -> None:
    from .train import TrainConfig

    defaults = TrainConfig()
    for f in fields(TrainConfig):
        if f.name == "seed":
            continue  # the common --seed
        value = getattr(defaults, f.name)
        kind = _train_type(f.name, value)
        choices = ("char", "gpt2") if f.name == "tokenizer" else None
        text = f"{TRAIN_HELP.get(f.name, '')} (default: {value})".strip()
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=kind, default=None, choices=choices, help=text)
    parser.add_argument(
        "--resume",
        nargs="?",
        const="",
        default=None,
        metavar="CKPT",
        help="continue from a ckpt.npz (no value: the one in --out)",
    )
    parser.add_argument(
        "--config", choices=sorted(CONFIGS), default=None, help="a preset of the options above (nanoGPT's configs)"
    )
    parser.add_argument("--device", choices=DEVICES, default=None, help="cpu (NumPy) or cuda (CuPy; default: cpu)")
    parser.add_argument("--max-minutes", type=positive_float, default=None, help="stop training after this long")
    parser.add_argument(
        "--ddp", action="store_true", help="data parallel over MPI ranks: mpiexec -n N python -m gpt2 train --ddp"
    )
    parser.add_argument(
        "--ranks", type=bounded_int(1, 1024), default=None, help="start N ranks with mpiexec (= mpiexec -n N ... --ddp)"
    )
    parser.add_argument(
        "--zero", type=int, choices=(0, 1), default=0, help="1: ZeRO stage 1, AdamW moments sharded over the ranks"
    )


train_parser = app.command(
    "train", cmd_train, help="train on tiny shakespeare with the NumPy backward", seed=REPRO_SEED
)
_add_train_options(train_parser)

sample_parser = app.command("sample", cmd_sample, help="generate text from a saved model folder")
sample_parser.add_argument("--model", required=True, help="folder with config.json + model.safetensors")
sample_parser.add_argument(
    "--prompt",
    action="append",
    default=None,
    help="prompt text; repeat for a batch (default: <|endoftext|>, or a newline for char models)",
)
sample_parser.add_argument("--max-new-tokens", type=bounded_int(0, 1 << 20), default=100)
sample_parser.add_argument("--temperature", type=non_negative_float, default=1.0, help="0 = greedy")
sample_parser.add_argument("--top-k", type=positive_int, default=None)
sample_parser.add_argument("--top-p", type=positive_float, default=None, help="nucleus mass in (0, 1]")
sample_parser.add_argument("--no-cache", action="store_true", help="recompute the prefix for every token")
sample_parser.add_argument("--device", choices=DEVICES, default="cpu", help="cpu (NumPy) or cuda (CuPy)")
sample_parser.add_argument(
    "--sliding-window", action="store_true", help="keep going past n_positions by dropping the oldest tokens"
)

app.command(
    "repro",
    cmd_repro,
    help="nanoGPT's CPU shakespeare_char run (2000 iterations); --seeds for the seed table",
    only=[REPRO_NAME],
    seeds=True,
    seed=REPRO_SEED,
)

figures_parser = app.command("figures", cmd_figures, help="loss curves and attention maps of a finished run")
figures_parser.add_argument("--run", default="runs/08_gpt2/train", help="a train or repro output folder")
figures_parser.add_argument("--prompt", default=None, help="text whose attention is drawn (default: from val data)")


def _add_bench_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeats", type=bounded_int(1, 100), default=3)
    parser.add_argument("--prompt-tokens", type=bounded_int(1, 1023), default=512, help="generate: prompt length")
    parser.add_argument("--new-tokens", type=bounded_int(1, 1023), default=64, help="generate: tokens to produce")
    parser.add_argument(
        "--device", choices=DEVICES, default="cpu", help="cpu (NumPy, PyTorch CPU) or cuda (CuPy, CUDA)"
    )
    parser.add_argument(
        "--train-shape",
        choices=("cpu", "gpu"),
        default="cpu",
        help="train: nanoGPT's CPU or GPU config's shape",
    )


BENCH_NAMES = ["forward", "generate", "train", "reference_train", "ddp"]  # bench.BENCHES, named without importing it
bench_parser = app.command(
    "bench", cmd_bench, help="speed against PyTorch CPU (same threads for both)", only=BENCH_NAMES
)
_add_bench_options(bench_parser)


def cmd_reference(args) -> None:
    from .reference import run_reference

    header(args)
    run_reference(args)


app.command(
    "reference",
    cmd_reference,
    help="nanoGPT's own CPU recipe in PyTorch over --seeds (default 1337-1340), for comparison",
    seeds=True,
)


def main(argv: list[str] | None = None) -> int:
    return app.main(argv)


if __name__ == "__main__":
    sys.exit(main())
