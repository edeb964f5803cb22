"""Command line: python -m gpt2 {train,sample,repro} ...; with no command, a short training run and a sample.

python -m gpt2 train --max-iters 2000            # char-level tiny shakespeare (nanoGPT's CPU config)
python -m gpt2 train --tokenizer gpt2            # the same on GPT-2 BPE tokens
python -m gpt2 sample --model runs/train/model --prompt "ROMEO:" --max-new-tokens 200
python -m gpt2 repro                             # the README's results table -> results.json
"""

from __future__ import annotations

import argparse
import codecs
import os
import sys
from dataclasses import fields

REPRO_NAME = "shakespeare_char_cpu"
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


TRAIN_HELP = {
    "tokenizer": "characters (65 symbols) or GPT-2's BPE (50257 tokens)",
    "block_size": "context length = n_positions",
    "batch_size": "sequences per micro-batch",
    "grad_accum": "micro-batches per optimizer step",
    "max_iters": "optimizer steps",
    "lr": "peak learning rate",
    "min_lr": "learning rate at the end of the cosine decay",
    "warmup_iters": "linear warmup steps",
    "lr_decay_iters": "step where the cosine reaches min_lr; None = max_iters",
    "weight_decay": "AdamW decay of 2-D weights",
    "grad_clip": "max global gradient norm, 0 = off",
    "dropout": "dropout rate (embeddings, attention, residuals)",
    "eval_interval": "steps between evaluations and checkpoints",
    "eval_iters": "batches per evaluation",
    "final_eval_iters": "batches for the final evaluation",
    "sample_tokens": "tokens sampled at the end, 0 = none",
    "seed": "initialisation, batches and dropout",
}


def add_threads(parser: argparse.ArgumentParser, default_text: str = "the library's choice") -> None:
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help=f"BLAS threads (default: {default_text}; 1 is often fastest on a busy machine)",
    )


def build_parser() -> argparse.ArgumentParser:
    from .train import TrainConfig  # argparse only needs the dataclass fields

    parser = argparse.ArgumentParser(
        prog="python -m gpt2",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    commands = parser.add_subparsers(dest="command")

    train = commands.add_parser("train", help="train on tiny shakespeare with the NumPy backward")
    defaults = TrainConfig()
    for f in fields(TrainConfig):
        value = getattr(defaults, f.name)
        kind = {"int": int, "float": float, "str": str}.get(str(f.type).split(" ")[0], type(value))
        if f.name == "lr_decay_iters":
            kind = int
        choices = ("char", "gpt2") if f.name == "tokenizer" else None
        text = f"{TRAIN_HELP.get(f.name, '')} (default: {value})".strip()
        train.add_argument(f"--{f.name.replace('_', '-')}", type=kind, default=value, choices=choices, help=text)
    train.add_argument("--out", default=None, help="output folder (default: runs/train)")
    train.add_argument("--resume", default=None, help="a ckpt.npz to continue from")
    add_threads(train, "1")

    sample = commands.add_parser("sample", help="generate text from a saved model folder")
    sample.add_argument("--model", required=True, help="folder with config.json + model.safetensors")
    sample.add_argument(
        "--prompt",
        action="append",
        default=None,
        help="prompt text; repeat for a batch (default: <|endoftext|>, or a newline for char models)",
    )
    sample.add_argument("--max-new-tokens", type=int, default=100)
    sample.add_argument("--temperature", type=float, default=1.0, help="0 = greedy")
    sample.add_argument("--top-k", type=int, default=None)
    sample.add_argument("--top-p", type=float, default=None)
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--no-cache", action="store_true", help="recompute the prefix for every token")
    sample.add_argument(
        "--sliding-window", action="store_true", help="keep going past n_positions by dropping the oldest tokens"
    )
    add_threads(sample)

    repro = commands.add_parser("repro", help="nanoGPT's CPU shakespeare_char run (2000 iterations)")
    repro.add_argument("--out", default=None, help="output folder (default: runs/repro)")
    repro.add_argument("--only", choices=[REPRO_NAME], default=None, help="the configuration to run")
    repro.add_argument("--seed", type=int, default=1337, help="initialisation, batches and dropout (default: 1337)")
    add_threads(repro, "1")
    return parser


def run_train(args) -> None:
    from shared.results import output_dir

    from .train import TrainConfig, train

    cfg = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
    train(cfg, output_dir(args.out, "train"), resume=args.resume)


def run_repro(args) -> None:
    from shared.results import output_dir

    from .train import TrainConfig, train

    out = output_dir(args.out, "repro")
    metrics = train(TrainConfig(**REPRO_CONFIG, seed=args.seed), out)
    print(f"{REPRO_NAME}: val loss {metrics['val_loss']:.4f} (nanoGPT: 1.88); results in {out / 'results.json'}")


def run_sample(args) -> None:
    import json
    from pathlib import Path

    from shared.seeding import make_rng

    from .model import GPT
    from .sample import generate
    from .tokenizer import load_tokenizer, start_tokens

    if args.max_new_tokens < 0 or args.temperature < 0:
        raise ValueError("--max-new-tokens and --temperature must be >= 0")
    if (args.top_k is not None and args.top_k < 1) or (args.top_p is not None and not 0 < args.top_p <= 1):
        raise ValueError("--top-k must be >= 1 and --top-p in (0, 1]")
    model = GPT.from_pretrained(args.model)
    spec_file = Path(args.model) / "tokenizer.json"
    tokenizer = load_tokenizer(json.loads(spec_file.read_text()) if spec_file.is_file() else None)
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
    rng = make_rng(args.seed)
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


def set_threads(argv: list[str]) -> None:
    """Apply --threads N through the BLAS environment variables, which are read when NumPy first loads.

    train and repro default to 1 thread: their matrices are small (768 x 128 for the CPU config), and
    OpenBLAS threads that spin waiting for a busy core make a step several times slower.
    """
    if argv and argv[0] in ("train", "repro") and not any(a.split("=")[0] == "--threads" for a in argv):
        argv = [*argv, "--threads", "1"]
    for i, arg in enumerate(argv):
        value = argv[i + 1] if arg == "--threads" and i + 1 < len(argv) else arg.partition("=")[2]
        if arg == "--threads" or arg.startswith("--threads="):
            if not value.isdigit() or int(value) < 1:
                raise SystemExit(f"--threads must be a positive integer, got {value!r}")
            if "numpy" in sys.modules:
                print("note: NumPy is already loaded; --threads may not take effect", file=sys.stderr)
            for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ[name] = value


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["train", *argv]  # no command: a short training run (the demo)
    set_threads(argv)  # before build_parser: it imports NumPy
    args = build_parser().parse_args(argv)
    try:
        {"train": run_train, "sample": run_sample, "repro": run_repro}[args.command](args)
    except (ValueError, FileNotFoundError, FloatingPointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        from shared.data import DataError

        if isinstance(error, DataError):
            print(f"error: {error}", file=sys.stderr)
            return 2
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
