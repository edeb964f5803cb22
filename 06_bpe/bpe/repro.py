"""`python -m bpe repro`: the README results table, written to `results.json`.

Configurations (`--only NAME`, repeatable, runs only those):
- `taylorswift_512`: RegexTokenizer (GPT-4 pattern) trained to vocab 512 on taylorswift.txt.
- `shakespeare_10000`: RegexTokenizer trained to vocab 10,000 on tiny shakespeare, with its
  compression curve (bytes per token after each merge) saved as `compression.png`.
- `sennrich`: Sennrich BPE, 10,000 merges learned on tiny shakespeare, then applied to it.
- `gpt2`, `cl100k_base`: OpenAI's tokenizers encoding both data files.

Every number is measured by this run; nothing is copied in. Timings are wall-clock seconds.
"""

from __future__ import annotations

import time
from pathlib import Path

from shared.cli import wrote
from shared.plotting import plot_curves
from shared.progress import Progress
from shared.results import write_results

from . import sennrich
from .corpus import get_encoding, read_input_text
from .regex_tokenizer import RegexTokenizer

CONFIGS = ("taylorswift_512", "shakespeare_10000", "sennrich", "gpt2", "cl100k_base")


def _train_regex(text: str, vocab_size: int, out, name: str, curve_path=None) -> dict:
    tokenizer = RegexTokenizer()
    num_bytes = len(text.encode("utf-8"))
    progress = Progress(vocab_size - 256, f"train {name}", unit="merge")
    curve_x, curve_y = [0], [1.0]

    def report(step, pair, new_id, count, live):
        progress.update(step + 1)
        curve_x.append(step + 1)
        curve_y.append(num_bytes / live)

    started = time.perf_counter()
    tokenizer.train(text, vocab_size, callback=report)
    seconds = time.perf_counter() - started
    progress.close()
    tokenizer.save(out / name)
    ids = tokenizer.encode_ordinary(text)
    if curve_path is not None:
        plot_curves(
            curve_path,
            {name: (curve_x, curve_y)},
            xlabel="merges",
            ylabel="bytes per token",
            title=f"RegexTokenizer compression on {name}",
        )
    return {
        "train_seconds": round(seconds, 3),
        "vocab_size": tokenizer.vocab_size,
        "tokens": len(ids),
        "bytes_per_token": round(num_bytes / len(ids), 4),
        "roundtrip_exact": tokenizer.decode(ids) == text,
    }


def _sennrich(text: str, out) -> dict:
    lines = text.splitlines(keepends=True)
    started = time.perf_counter()
    merges = sennrich.learn_bpe(lines, 10000)
    seconds = time.perf_counter() - started
    sennrich.write_codes(merges, out / "shakespeare.codes")
    bpe = sennrich.BPE(merges)
    words = sum(len(line.split()) for line in lines)
    subwords = sum(len(bpe.segment(line).split()) for line in lines)
    return {
        "learn_seconds": round(seconds, 3),
        "merges": len(merges),
        "words": words,
        "subwords": subwords,
        "subwords_per_word": round(subwords / words, 4),
    }


def _openai(name: str, texts: dict[str, str]) -> dict:
    started = time.perf_counter()
    encoding = get_encoding(name)
    metrics: dict = {"load_seconds": round(time.perf_counter() - started, 3)}
    for data_name, text in texts.items():
        started = time.perf_counter()
        ids = encoding.encode(text)
        seconds = time.perf_counter() - started
        num_bytes = len(text.encode("utf-8"))
        metrics[data_name.removesuffix(".txt")] = {
            "tokens": len(ids),
            "bytes_per_token": round(num_bytes / len(ids), 4),
            "encode_seconds": round(seconds, 3),
            "roundtrip_exact": encoding.decode(ids) == text,
        }
    return metrics


def run_repro(out: Path, only: list[str] | None = None) -> dict:
    """Run the configurations (all, or those in `only`) and write `out/results.json`."""
    texts = {name: read_input_text(name) for name in ("taylorswift.txt", "tinyshakespeare.txt")}
    started = time.perf_counter()
    metrics: dict = {}
    for config in CONFIGS:
        if only and config not in only:
            continue
        print(f"== {config}", flush=True)
        if config == "taylorswift_512":
            metrics[config] = _train_regex(texts["taylorswift.txt"], 512, out, config)
        elif config == "shakespeare_10000":
            metrics[config] = _train_regex(texts["tinyshakespeare.txt"], 10000, out, config, out / "compression.png")
        elif config == "sennrich":
            metrics[config] = _sennrich(texts["tinyshakespeare.txt"], out)
        else:
            metrics[config] = _openai(config, texts)
        print(metrics[config], flush=True)
    seconds = time.perf_counter() - started
    path = write_results(out, metrics, seconds, seed=None)
    print(f"done in {seconds:.1f}s")
    wrote(path, *sorted(str(p) for p in out.iterdir() if p != path))
    return metrics
