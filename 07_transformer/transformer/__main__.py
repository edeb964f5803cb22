"""The Transformer of "Attention Is All You Need" in NumPy: train, evaluate, translate, repro, bench.

  python -m transformer                                  the copy task (a few minutes)
  python -m transformer train --preset quick             German->English in about 5 minutes of CPU
  python -m transformer translate "Ein Hund läuft im Park."
  python -m transformer evaluate --limit 100             test BLEU, greedy and beam 4
  python -m transformer train --task multi30k            the README's run (3,000 updates; resumable)
  python -m transformer repro --only copy                the README results table -> results.json
  python -m transformer bench                            NumPy vs PyTorch CPU; decoding with/without cache

Outputs go to runs/07_transformer/<command> (train: runs/07_transformer/train/<task>), under
the current folder; `translate` and `evaluate` read train's Multi30k checkpoint by default.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from shared.cli import (
    App,
    CLIError,
    bounded_int,
    header,
    positive_float,
    positive_int,
    prepare_out,
    probability,
    wrote,
)

FOLDER = "07_transformer"
MODELS = ("base", "small", "tiny", "mini")  # model.CONFIGS (not imported here: NumPy loads after --threads)

# The documented Multi30k configuration (README "Results").
MULTI30K_DEFAULTS = dict(
    model="small",
    steps=3000,
    max_tokens=2000,
    accum=1,
    warmup=400,
    lr_factor=0.5,
    label_smoothing=0.1,
    eval_every=200,
    min_freq=2,
    average_last=5,
    eval_limit=None,
    max_minutes=None,
)
# Named presets: each sets the defaults of a Multi30k run (flags given on the command line win).
PRESETS = {
    # Recognisable translations in about 5 minutes of one CPU core (README "A first translation").
    "quick": dict(
        model="mini",
        steps=250,
        max_tokens=1500,
        warmup=200,
        lr_factor=0.5,
        eval_every=250,
        average_last=1,
        eval_limit=200,
    ),
}
DEFAULT_CHECKPOINT = Path("runs") / FOLDER / "train" / "multi30k" / "multi30k.npz"
SHORT_RUN, SHORT_RUN_EVAL_LIMIT = 1000, 200  # runs of fewer updates (or with --max-minutes) score 200 sentences
MAX_BEAM = 32  # the paper uses 4; a beam's memory grows with its width
MAX_MAX_TOKENS = 100_000


def _train_config(args):
    from .train import TrainConfig

    return TrainConfig(
        steps=args.steps,
        max_tokens=args.max_tokens,
        accum=args.accum,
        warmup=args.warmup,
        lr_factor=args.lr_factor,
        label_smoothing=args.label_smoothing,
        eval_every=args.eval_every,
        keep_last=args.average_last,
        seed=args.seed,
    )


def _fill_multi30k_defaults(args) -> None:
    """Flags given win, then the preset's values, then the documented configuration."""
    preset = PRESETS.get(args.preset, {})
    for key, value in MULTI30K_DEFAULTS.items():
        if getattr(args, key) is None:
            setattr(args, key, preset.get(key, value))
    if args.eval_limit is None and (args.steps < SHORT_RUN or args.max_minutes is not None):
        # A short run's model is far from done, and an untrained one decodes every sentence to its
        # length limit: a 20-update smoke run once spent 270 s scoring all 1,000 test sentences.
        args.eval_limit = SHORT_RUN_EVAL_LIMIT
        args.note = f"a short run: it scores the first {SHORT_RUN_EVAL_LIMIT} test sentences (--eval-limit 1000: all)"


def cmd_train(args) -> int:
    from .train import TrainingInterrupted, run_copy, run_multi30k

    if args.preset and args.task == "copy":
        raise CLIError("--preset sets up a Multi30k run; drop --task copy")
    task = args.task or ("multi30k" if args.preset else "copy")
    if args.out is None:
        args.out = str(Path("runs") / FOLDER / "train" / task)  # one folder per task: both can be resumed
    out = prepare_out(args, resumable=(Path(args.out) / f"{task}.npz").is_file())  # only a run of ours resumes
    max_seconds = None
    try:
        if task == "copy":
            fixed = ("model", "max_tokens", "accum", "warmup", "lr_factor", "label_smoothing", "min_freq", "eval_limit")
            for name in (*fixed, "eval_every", "average_last"):
                if getattr(args, name) is not None:
                    raise CLIError(f"--{name.replace('_', '-')} is for Multi30k runs; the copy task has fixed settings")
            max_seconds = args.max_minutes * 60 if args.max_minutes else None
            header(args, task="copy", out=out)
            started = time.perf_counter()
            metrics = run_copy(
                out, steps=args.steps or 500, seed=args.seed, resume=not args.force, max_seconds=max_seconds
            )
        else:
            _fill_multi30k_defaults(args)
            max_seconds = args.max_minutes * 60 if args.max_minutes else None
            header(args, task="multi30k", preset=args.preset or "none", model=args.model, out=out)
            if getattr(args, "note", None):
                print(args.note)
            started = time.perf_counter()
            metrics = run_multi30k(
                out,
                args.model,
                _train_config(args),
                min_freq=args.min_freq,
                resume=not args.force,
                average_last=args.average_last,
                eval_limit=args.eval_limit,
                max_seconds=max_seconds,
            )
    except TrainingInterrupted as stopped:
        print(f"error: {stopped}", file=sys.stderr)
        return 130
    from shared.results import write_results

    wrote(write_results(out, metrics, time.perf_counter() - started, args.seed), out)
    return 0


def _load_translation_model(path: Path):
    from .checkpoint import load_model, vocabs

    if not path.exists():
        hint = "python -m transformer train --preset quick (about 5 minutes)"
        raise CLIError(f"no checkpoint at {path}; train one first: {hint}, or pass --checkpoint")
    model, arrays, meta = load_model(path)
    src_vocab, tgt_vocab = vocabs(arrays, model.cfg)
    if src_vocab is None or tgt_vocab is None:
        raise CLIError(f"{path} holds no vocabularies: it is not a Multi30k checkpoint (train with --task multi30k)")
    return model, arrays, meta, src_vocab, tgt_vocab


def cmd_evaluate(args) -> int:
    """Test BLEU of a checkpoint (and of the average of its last snapshots)."""
    from shared.results import write_results

    from .checkpoint import history
    from .plots import plot_attention, plot_training
    from .train import averaged_state, bleu_of, load_multi30k

    checkpoint = Path(args.checkpoint)
    model, arrays, meta, src_vocab, tgt_vocab = _load_translation_model(checkpoint)
    out = prepare_out(args)
    header(args, checkpoint=checkpoint, out=out)
    started = time.perf_counter()
    test_de, test_en = load_multi30k(args.split)
    if args.limit is not None:
        test_de, test_en = test_de[: args.limit], test_en[: args.limit]
    step = meta["step"]
    metrics = {"step": step, "parameters": model.num_parameters(), "sentences": len(test_de)}
    variants = [("last", None)]
    if args.average_last > 1:
        variants.append(("averaged", args.average_last))
    prefix = "val" if args.split == "val" else "test"
    for name, last in variants:
        if last is not None:
            try:
                state, files = averaged_state(checkpoint, last)
            except FileNotFoundError:
                state, files = None, []
            if len(files) < 2:
                print(f"{len(files) or 'no'} snapshot(s) next to {checkpoint}: no average to score")
                continue
            model.load_state_dict(state)
            print(f"averaged {len(files)} snapshots: {[Path(f).name for f in files]}")
        greedy_bleu, _ = bleu_of(model, src_vocab, tgt_vocab, test_de, test_en, 1)
        beam_bleu, hyps = bleu_of(model, src_vocab, tgt_vocab, test_de, test_en, args.beam)
        print(
            f"{args.split} BLEU ({name}, step {step}, {len(test_de)} sentences): greedy {greedy_bleu:.2f}, "
            f"beam {args.beam} {beam_bleu:.2f}"
        )
        metrics[name] = {f"{prefix}_bleu": {"greedy": greedy_bleu / 100, f"beam{args.beam}": beam_bleu / 100}}
        (out / f"hypotheses_{name}.txt").write_text("\n".join(hyps) + "\n")
    plot_training(out, history(arrays))
    plot_attention(out, model, src_vocab, tgt_vocab, args.attention_sentence or test_de[0])
    wrote(write_results(out, metrics, time.perf_counter() - started, None), f"PNGs in {out}")
    return 0


def cmd_translate(args) -> int:
    from .train import translate_lines

    model, _, _, src_vocab, tgt_vocab = _load_translation_model(Path(args.checkpoint))
    if args.sentence:
        lines = args.sentence
    elif sys.stdin is None or sys.stdin.isatty():
        raise CLIError("no sentences: give them as arguments, or pipe them in, one per line")
    else:
        lines = _stdin_lines()
    for line in translate_lines(model, src_vocab, tgt_vocab, lines, beam=args.beam):
        print(line)
    return 0


def _stdin_lines() -> list[str]:
    """stdin's lines, decoded as UTF-8 strictly: a locale's lenient decoding would turn bad bytes into <unk>."""
    import io

    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # a text stream put in place of stdin (tests)
        return [line.rstrip("\n") for line in sys.stdin]
    data = buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 1].hex()
        raise CLIError(f"stdin is not UTF-8 text (byte 0x{bad} at offset {error.start}: {error.reason})") from None
    return [line.rstrip("\n") for line in io.StringIO(text, newline=None)]


def cmd_repro(args) -> int:
    """Reruns the README table: the copy task, then Multi30k with the documented configuration."""
    from shared.results import write_results

    from .train import TrainConfig, run_copy, run_multi30k

    path = Path(args.out) if args.out else Path("runs") / FOLDER / "repro"
    interrupted = (path / "multi30k" / "multi30k.npz").is_file() and not (path / "results.json").exists()
    out = prepare_out(
        args, resumable=interrupted
    )  # an interrupted Multi30k row resumes; a finished repro needs --force
    only = args.only or ["copy", "multi30k"]
    header(args, rows=",".join(only), out=out)
    started = time.perf_counter()
    metrics = {}
    if "copy" in only:
        metrics["copy"] = run_copy(out / "copy", steps=500, seed=args.seed)
    if "multi30k" in only:
        d = MULTI30K_DEFAULTS
        tc = TrainConfig(
            steps=args.steps or d["steps"],
            max_tokens=d["max_tokens"],
            accum=d["accum"],
            warmup=d["warmup"],
            lr_factor=d["lr_factor"],
            eval_every=d["eval_every"],
            seed=args.seed,
        )
        metrics["multi30k"] = run_multi30k(out / "multi30k", d["model"], tc, min_freq=d["min_freq"])
    wrote(write_results(out, metrics, time.perf_counter() - started, args.seed))
    return 0


def cmd_bench(args) -> int:
    from .bench import run_bench

    header(args)
    run_bench(args)
    return 0


app = App("transformer", FOLDER, __doc__, default="train")

train = app.command("train", cmd_train, help="train on the copy task (default) or Multi30k German->English")
train.add_argument("--task", choices=["copy", "multi30k"], default=None, help="default: copy (multi30k with --preset)")
train.add_argument(
    "--preset", choices=sorted(PRESETS), default=None, help="quick: a Multi30k run of about 5 CPU minutes"
)
train.add_argument("--model", choices=MODELS, default=None, help="model shape (Multi30k; default small)")
train.add_argument(
    "--steps", type=bounded_int(1, 10**7), default=None, help="optimizer updates (copy 500, Multi30k 3000)"
)
train.add_argument("--max-minutes", type=positive_float, default=None, help="stop (with a checkpoint) after N minutes")
train.add_argument(
    "--max-tokens", type=bounded_int(16, MAX_MAX_TOKENS), default=None, help="padded target tokens/batch"
)
train.add_argument("--accum", type=bounded_int(1, 1024), default=None, help="micro-batches per update (accumulation)")
train.add_argument("--warmup", type=bounded_int(1, 10**7), default=None, help="Noam warmup steps")
train.add_argument("--lr-factor", type=positive_float, default=None, help="multiplies the Noam learning rate")
train.add_argument("--label-smoothing", type=probability, default=None, help="epsilon_ls (default 0.1)")
train.add_argument("--eval-every", type=positive_int, default=None, help="validate and checkpoint every N updates")
train.add_argument("--eval-limit", type=positive_int, default=None, help="score only N test sentences (default all)")
train.add_argument("--min-freq", type=bounded_int(1, 10**6), default=None, help="vocabulary frequency cut-off")
train.add_argument("--average-last", type=bounded_int(1, 100), default=None, help="snapshots kept and averaged (6.1)")

evaluate = app.command("evaluate", cmd_evaluate, help="test BLEU of a Multi30k checkpoint, greedy and beam")
evaluate.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT), help=f"default: {DEFAULT_CHECKPOINT}")
evaluate.add_argument("--split", default="test_2016_flickr", choices=["val", "test_2016_flickr"])
evaluate.add_argument("--beam", type=bounded_int(1, MAX_BEAM), default=4, help=f"beam width, 1 to {MAX_BEAM}")
evaluate.add_argument(
    "--average-last", type=bounded_int(1, 100), default=5, help="also score the average of N snapshots"
)
evaluate.add_argument("--limit", type=positive_int, default=None, help="score only the first N sentences")
evaluate.add_argument("--attention-sentence", default=None, help="German sentence for the attention maps")

translate = app.command("translate", cmd_translate, help="translate German sentences (arguments, or stdin)")
translate.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT), help=f"default: {DEFAULT_CHECKPOINT}")
translate.add_argument("--beam", type=bounded_int(1, MAX_BEAM), default=4, help=f"beam width, 1 to {MAX_BEAM}")
translate.add_argument("sentence", nargs="*", help="German sentences (none: read lines from stdin)")

repro = app.command("repro", cmd_repro, help="rerun the README results table", only=["copy", "multi30k"])
repro.add_argument("--steps", type=bounded_int(1, 10**7), default=None, help="override the Multi30k update count")

bench = app.command("bench", cmd_bench, help="NumPy vs PyTorch CPU training step; decoding with/without cache")
bench.add_argument("--model", choices=MODELS, default="small")
bench.add_argument("--batch", type=bounded_int(1, 4096), default=64, help="sentences per training step")
bench.add_argument("--length", type=bounded_int(1, 256), default=20, help="source and target length")
bench.add_argument("--vocab", type=bounded_int(5, 100_000), default=6000)
bench.add_argument("--repeats", type=bounded_int(1, 1000), default=6, help="timed repeats (best reported)")
bench.add_argument("--decode-tokens", type=bounded_int(1, 200), default=50)
bench.add_argument("--decode-batch", type=bounded_int(1, 1024), default=16)
bench.add_argument("--part", choices=["training", "decoding"], default=None, help="run only one part")


def main(argv=None) -> int:
    return app.main(argv)


if __name__ == "__main__":
    sys.exit(main())
