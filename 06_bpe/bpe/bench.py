"""`python -m bpe bench`: our speed next to the slow baseline and the reference libraries, in one run.

(a) Training a RegexTokenizer (GPT-4 pattern) to vocab 10,000 on tiny shakespeare: the incremental
    trainer against the recount trainer. The recount trainer is run for its first `--slow-merges`
    merges only; its full time is extrapolated from its measured cost per scanned token times the
    tokens each of the remaining recounts would scan (known exactly from the fast run's trace).
    Also Sennrich BPE, 10,000 merges: ours against subword-nmt's `learn_bpe` (same merges checked).
(b) GPT-2 (and GPT-4) encoding throughput on tiny shakespeare: ours against tiktoken, single thread,
    best of `--repeats`, in CPU seconds. "cold" starts with an empty chunk cache, "warm" encodes the text a second time.

Times are CPU seconds of this process (`time.process_time`), which a machine shared with other jobs
disturbs far less than wall-clock time; wall times are printed next to them for the trainers.
The oracles (tiktoken, subword-nmt) are imported here only; missing ones are reported and skipped.
Results are printed and written to `runs/06_bpe/bench/bench.json` (`--out` to change).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

from shared.cli import wrote
from shared.timing import Timer

from . import sennrich
from .corpus import get_encoding, read_input_text
from .regex_tokenizer import GPT4_SPLIT_PATTERN
from .training import train_incremental, train_recount

TIKTOKEN_FILES = {
    "gpt2/vocab.bpe": "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/vocab.bpe",
    "gpt2/encoder.json": "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/encoder.json",
    "gpt4/cl100k_base.tiktoken": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}


def _timed(fn):
    """(result, wall seconds, CPU seconds of this process). Ratios use CPU time: on a machine shared
    with other jobs, wall time mostly measures how long we waited for a core."""
    with Timer() as timer:
        result = fn()
    return result, timer.wall, timer.cpu


def bench_training(text: str, vocab_size: int, slow_merges: int, check_merges: int = 0) -> dict:
    import regex

    chunks = Counter(chunk.encode("utf-8") for chunk in regex.findall(GPT4_SPLIT_PATTERN, text))
    num_merges = vocab_size - 256
    trace: list[int] = []
    fast, fast_wall, fast_seconds = _timed(lambda: train_incremental(chunks, num_merges, positions_trace=trace))
    slow_merges = min(slow_merges, num_merges)
    slow, slow_wall, slow_seconds = _timed(lambda: train_recount(chunks, slow_merges))
    assert slow == fast[:slow_merges], "the recount trainer disagrees with the incremental one"

    # a recount step scans the tokens left before it: len(all chunks) for the first, then trace[s - 1]
    scanned = [sum(len(chunk) for chunk in chunks), *trace[:-1]]
    per_token = slow_seconds / sum(scanned[:slow_merges])
    slow_estimate = per_token * sum(scanned)
    extra = {}
    if check_merges:  # how good is the extrapolation? estimate from a short run, compare with the full one
        _, _, short_seconds = _timed(lambda: train_recount(chunks, check_merges))
        estimate = short_seconds / sum(scanned[:check_merges]) * sum(scanned[:slow_merges])
        extra[f"recount_cpu_seconds_estimated_from_{check_merges}_merges"] = round(estimate, 1)
    return {
        "vocab_size": vocab_size,
        "unique_chunks": len(chunks),
        "fast_cpu_seconds": round(fast_seconds, 3),
        "fast_wall_seconds": round(fast_wall, 3),
        "recount_merges_run": slow_merges,
        "recount_cpu_seconds_measured": round(slow_seconds, 3),
        "recount_wall_seconds_measured": round(slow_wall, 3),
        "recount_cpu_seconds_estimated_full": round(slow_estimate, 1),
        "speedup": round(slow_estimate / fast_seconds, 1),
        **extra,
    }


def bench_sennrich(text: str, num_symbols: int) -> dict:
    lines = text.splitlines(keepends=True)
    ours, ours_wall, ours_seconds = _timed(lambda: sennrich.learn_bpe(lines, num_symbols))
    result = {"merges": len(ours), "ours_cpu_seconds": round(ours_seconds, 3), "ours_wall_seconds": round(ours_wall, 3)}
    try:
        import subword_nmt.learn_bpe as reference
    except ImportError:
        print("subword-nmt is not installed (pip install subword-nmt): skipping its timing")
        return result
    out = io.StringIO()
    with contextlib.redirect_stderr(io.StringIO()):  # subword-nmt's progress bar
        _, reference_wall, reference_seconds = _timed(lambda: reference.learn_bpe(lines, out, num_symbols))
    ours_text = io.StringIO()
    sennrich.write_codes(ours, ours_text)
    result.update(
        subword_nmt_cpu_seconds=round(reference_seconds, 3),
        subword_nmt_wall_seconds=round(reference_wall, 3),
        ratio_ours_over_subword_nmt=round(ours_seconds / reference_seconds, 3),
        identical_merges=ours_text.getvalue() == out.getvalue(),
    )
    return result


def _tiktoken(name: str):
    try:
        import tiktoken
    except ImportError:
        print("tiktoken is not installed (pip install tiktoken): skipping its timing")
        return None
    from shared.data import fetch, read_bytes

    cache = tempfile.mkdtemp(prefix="tiktoken_cache_")
    for data_name, url in TIKTOKEN_FILES.items():
        Path(cache, hashlib.sha1(url.encode()).hexdigest()).write_bytes(read_bytes(fetch(data_name)))  # maybe gzipped
    os.environ["TIKTOKEN_CACHE_DIR"] = cache  # offline: tiktoken finds its files here
    return tiktoken.get_encoding(name)


def _best(fn, repeats: int) -> float:
    return min(_timed(fn)[2] for _ in range(repeats))  # CPU seconds


def bench_encoding(name: str, text: str, repeats: int) -> dict:
    megabytes = len(text.encode("utf-8")) / 1e6
    ours = get_encoding(name)

    def cold():
        ours.cache.clear()
        return ours.encode_ordinary(text)

    cold_seconds = _best(cold, repeats)
    warm_seconds = _best(lambda: ours.encode_ordinary(text), repeats)
    result = {
        "megabytes": round(megabytes, 3),
        "ours_cold_mb_per_s": round(megabytes / cold_seconds, 2),
        "ours_warm_mb_per_s": round(megabytes / warm_seconds, 2),
    }
    reference = _tiktoken(name)
    if reference is not None:
        reference_seconds = _best(lambda: reference.encode_ordinary(text), repeats)
        assert reference.encode_ordinary(text) == ours.encode_ordinary(text), "token ids differ from tiktoken"
        result.update(
            tiktoken_mb_per_s=round(megabytes / reference_seconds, 2),
            time_ratio_ours_cold_over_tiktoken=round(cold_seconds / reference_seconds, 2),
            time_ratio_ours_warm_over_tiktoken=round(warm_seconds / reference_seconds, 2),
        )
    return result


PARTS = ("training", "sennrich", "encoding")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from shared.cli import bounded_int, non_negative_int, positive_int

    parser.add_argument("--vocab-size", type=bounded_int(257, 1_000_000), default=10000, help="RegexTokenizer vocab")
    parser.add_argument("--slow-merges", type=positive_int, default=150, help="merges run by the recount trainer")
    parser.add_argument("--symbols", type=bounded_int(1, 1_000_000), default=10000, help="Sennrich merges")
    parser.add_argument("--repeats", type=bounded_int(1, 100), default=3, help="encoding runs, best taken")
    parser.add_argument(
        "--full-recount-vocab",
        type=non_negative_int,
        default=0,
        help="also run both trainers all the way to this vocab (no extrapolation; slow)",
    )


def run_bench(args: argparse.Namespace, out: Path) -> dict:
    """The parts named by `--only` (all by default); writes `out/bench.json`."""
    parts = args.only or PARTS
    text = read_input_text("tinyshakespeare.txt")
    results = {}
    if "training" in parts:
        print(f"(a) RegexTokenizer training to vocab {args.vocab_size} on tiny shakespeare", flush=True)
        results["training"] = bench_training(text, args.vocab_size, args.slow_merges)
        print(json.dumps(results["training"], indent=2), flush=True)
        if args.full_recount_vocab > 256:
            vocab = args.full_recount_vocab
            print(f"(a) both trainers run to vocab {vocab} (no extrapolation)", flush=True)
            results["training_full"] = bench_training(text, vocab, vocab - 256, check_merges=args.slow_merges)
            print(json.dumps(results["training_full"], indent=2), flush=True)
    if "sennrich" in parts:
        print(f"(a') Sennrich BPE, {args.symbols} merges on tiny shakespeare: ours vs subword-nmt", flush=True)
        results["sennrich"] = bench_sennrich(text, args.symbols)
        print(json.dumps(results["sennrich"], indent=2), flush=True)
    if "encoding" in parts:
        for name in ("gpt2", "cl100k_base"):
            print(f"(b) {name} encoding throughput on tiny shakespeare (single thread)", flush=True)
            results[name] = bench_encoding(name, text, args.repeats)
            print(json.dumps(results[name], indent=2), flush=True)
    path = out / "bench.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    wrote(path)
    return results


if __name__ == "__main__":
    from .__main__ import main

    sys.exit(main(["bench", *sys.argv[1:]]))
