"""Command line: python -m transformer {train,evaluate,translate,repro} ...

python -m transformer                                    the copy task (a minute or two)
python -m transformer train --task multi30k --steps 3000 German->English, resumable
python -m transformer evaluate --checkpoint runs/multi30k/multi30k.npz   test BLEU, greedy and beam 4
python -m transformer translate --checkpoint C "ein Hund läuft im Park"
python -m transformer repro                              the README results table -> results.json
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def _set_blas_threads(argv: list[str]) -> None:
    """Apply `--threads N` (default 1) before NumPy loads: BLAS reads its thread count once, at import.

    One thread is the default because on a shared machine a multi-threaded OpenBLAS spins
    waiting for descheduled threads; on this project's 2-core VM under load, two threads made
    a training step about 15x slower than one.
    """
    threads = "1"
    for index, arg in enumerate(argv):
        if arg == "--threads" and index + 1 < len(argv):
            threads = argv[index + 1]
        elif arg.startswith("--threads="):
            threads = arg.split("=", 1)[1]
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, threads)


if __name__ == "__main__":
    _set_blas_threads(sys.argv[1:])

from shared.results import output_dir, write_results  # noqa: E402

from .model import CONFIGS  # noqa: E402

# The documented Multi30k configuration (README "Results").
MULTI30K_DEFAULTS = dict(
    model="small", steps=3000, max_tokens=2000, accum=1, warmup=400, lr_factor=0.5, eval_every=200, min_freq=2
)


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


def cmd_train(args) -> None:
    from .train import run_copy, run_multi30k

    out = output_dir(args.out, args.task)
    started = time.perf_counter()
    if args.task == "copy":
        metrics = run_copy(out, steps=args.steps or 500, seed=args.seed)
    else:
        for key, value in MULTI30K_DEFAULTS.items():
            if getattr(args, key) is None:
                setattr(args, key, value)
        metrics = run_multi30k(
            out,
            args.model,
            _train_config(args),
            min_freq=args.min_freq,
            resume=not args.no_resume,
            average_last=args.average_last,
        )
    path = write_results(out, metrics, time.perf_counter() - started, args.seed)
    print(f"wrote {path}")


def cmd_evaluate(args) -> None:
    """Test BLEU of a checkpoint (and of the average of its last snapshots)."""
    from .checkpoint import load_model, vocabs
    from .train import averaged_state, bleu_of, load_multi30k

    started = time.perf_counter()
    model, arrays = load_model(args.checkpoint)
    src_vocab, tgt_vocab = vocabs(arrays)
    if src_vocab is None or tgt_vocab is None:
        sys.exit(f"error: {args.checkpoint} holds no vocabularies; it is not a Multi30k checkpoint")
    test_de, test_en = load_multi30k(args.split)
    if args.limit is not None:
        test_de, test_en = test_de[: args.limit], test_en[: args.limit]
    metrics = {"step": int(arrays["step"]), "parameters": model.num_parameters(), "sentences": len(test_de)}
    variants = [("last", None)]
    if args.average_last > 1:
        variants.append(("averaged", args.average_last))
    for name, last in variants:
        if last is not None:
            state, files = averaged_state(args.checkpoint, last)
            model.load_state_dict(state)
            print(f"averaged {len(files)} snapshots: {[Path(f).name for f in files]}")
        greedy_bleu, _ = bleu_of(model, src_vocab, tgt_vocab, test_de, test_en, 1)
        beam_bleu, hyps = bleu_of(model, src_vocab, tgt_vocab, test_de, test_en, args.beam)
        print(
            f"{args.split} BLEU ({name}, step {metrics['step']}): greedy {greedy_bleu:.2f}, beam {args.beam} "
            f"{beam_bleu:.2f}"
        )
        prefix = "val" if args.split == "val" else "test"
        metrics[name] = {f"{prefix}_bleu": {"greedy": greedy_bleu / 100, f"beam{args.beam}": beam_bleu / 100}}
        out = output_dir(args.out, "evaluate")
        (out / f"hypotheses_{name}.txt").write_text("\n".join(hyps) + "\n")
    out = output_dir(args.out, "evaluate")
    from .checkpoint import history
    from .plots import plot_attention, plot_training

    plot_training(out, history(arrays))
    plot_attention(out, model, src_vocab, tgt_vocab, args.attention_sentence or test_de[0])
    print(f"wrote {write_results(out, metrics, time.perf_counter() - started, None)} and PNGs in {out}")


def cmd_translate(args) -> None:
    from .checkpoint import load_model, vocabs
    from .train import translate_lines

    model, arrays = load_model(args.checkpoint)
    src_vocab, tgt_vocab = vocabs(arrays)
    if src_vocab is None or tgt_vocab is None:
        sys.exit(f"error: {args.checkpoint} holds no vocabularies; train with --task multi30k first")
    lines = args.sentence or [line.rstrip("\n") for line in sys.stdin]
    for line in translate_lines(model, src_vocab, tgt_vocab, lines, beam=args.beam):
        print(line)


def cmd_repro(args) -> None:
    """Reruns the README table: copy task, then Multi30k with the documented configuration."""
    from .train import TrainConfig, run_copy, run_multi30k

    out = output_dir(args.out, "repro")
    started = time.perf_counter()
    metrics = {}
    if args.only in (None, "copy"):
        metrics["copy"] = run_copy(out / "copy", steps=500, seed=args.seed)
    if args.only in (None, "multi30k"):
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
    print(f"wrote {write_results(out, metrics, time.perf_counter() - started, args.seed)}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m transformer", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")

    train = sub.add_parser("train", help="train on the copy task or Multi30k")
    train.add_argument("--task", choices=["copy", "multi30k"], default="copy")
    train.add_argument("--model", choices=sorted(CONFIGS), default=None, help="model shape (multi30k; default small)")
    train.add_argument("--steps", type=int, default=None, help="optimizer updates (copy 500, multi30k 3000)")
    train.add_argument("--max-tokens", type=int, default=None, help="padded target tokens per micro-batch")
    train.add_argument("--accum", type=int, default=None, help="micro-batches per update (gradient accumulation)")
    train.add_argument("--warmup", type=int, default=None, help="Noam warmup steps")
    train.add_argument("--lr-factor", type=float, default=None, help="multiplies the Noam learning rate")
    train.add_argument("--label-smoothing", type=float, default=0.1)
    train.add_argument("--eval-every", type=int, default=None)
    train.add_argument("--min-freq", type=int, default=None, help="vocabulary frequency cut-off")
    train.add_argument("--average-last", type=int, default=5, help="snapshots kept and averaged (section 6.1)")
    train.add_argument("--no-resume", action="store_true", help="start afresh even if a checkpoint exists")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", default=None)
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="test BLEU of a Multi30k checkpoint")
    evaluate.add_argument("--checkpoint", required=True)
    evaluate.add_argument("--split", default="test_2016_flickr", choices=["val", "test_2016_flickr"])
    evaluate.add_argument("--beam", type=int, default=4)
    evaluate.add_argument("--average-last", type=int, default=5, help="also score the average of the last N snapshots")
    evaluate.add_argument("--limit", type=int, default=None, help="score only the first N sentences (quick check)")
    evaluate.add_argument("--attention-sentence", default=None, help="German sentence for the attention maps")
    evaluate.add_argument("--out", default=None)
    evaluate.set_defaults(func=cmd_evaluate)

    translate = sub.add_parser("translate", help="translate German sentences (arguments or stdin)")
    translate.add_argument("--checkpoint", required=True)
    translate.add_argument("--beam", type=int, default=4)
    translate.add_argument("sentence", nargs="*")
    translate.set_defaults(func=cmd_translate)

    repro = sub.add_parser("repro", help="rerun the README results table")
    repro.add_argument("--only", choices=["copy", "multi30k"], default=None)
    repro.add_argument("--steps", type=int, default=None, help="override the Multi30k update count")
    repro.add_argument("--seed", type=int, default=0)
    repro.add_argument("--out", default=None)
    repro.set_defaults(func=cmd_repro)

    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or (argv[0] not in sub.choices and argv[0] not in ("-h", "--help")):
        argv = ["train", "--task", "copy", *argv]  # bare `python -m transformer [options]`: the copy-task demo
    args, rest = parser.parse_known_args(argv)
    threads = argparse.ArgumentParser(add_help=False)
    threads.add_argument("--threads", type=int, default=1)
    extra, unknown = threads.parse_known_args(rest)
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if extra.threads < 1:
        parser.error("--threads must be >= 1")
    from .train import TrainingInterrupted

    try:
        args.func(args)
    except TrainingInterrupted as stopped:
        sys.exit(str(stopped))
    except (ValueError, FileNotFoundError) as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
