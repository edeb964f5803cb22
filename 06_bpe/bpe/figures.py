"""`python -m bpe figures`: the README's figures, drawn from runs made here.

- `compression.png`: bytes per token on tiny shakespeare after each merge of a RegexTokenizer
  (GPT-4 pattern) trained on it, against vocabulary size, with GPT-2's and GPT-4's tokenizers
  (trained on other text) as points on the same axes.
- `token_lengths.png`: how long the tokens of each vocabulary are (bytes per token), as fractions.

The README shows the copies in 06_bpe/assets (`python -m bpe figures --out 06_bpe/assets --force`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shared.plotting import new_figure, save_figure
from shared.progress import Progress

from .corpus import get_encoding, read_input_text
from .regex_tokenizer import RegexTokenizer

DPI = 90


def draw_figures(out: Path, vocab_size: int = 10000) -> list[Path]:
    text = read_input_text("tinyshakespeare.txt")
    num_bytes = len(text.encode("utf-8"))
    tokenizer = RegexTokenizer()
    sizes, ratios = [256], [1.0]
    progress = Progress(vocab_size - 256, "train", unit="merge")

    def report(step, pair, new_id, count, live):
        progress.update(step + 1)
        sizes.append(new_id + 1)
        ratios.append(num_bytes / live)

    tokenizer.train(text, vocab_size, callback=report)
    progress.close()
    openai = {name: get_encoding(name) for name in ("gpt2", "cl100k_base")}

    figure, axes = new_figure(6.4, 4.0)
    axes.plot(sizes, ratios, label="RegexTokenizer trained on tiny shakespeare")
    for (name, encoding), marker in zip(openai.items(), ("o", "s")):
        ratio = num_bytes / len(encoding.encode_ordinary(text))
        axes.scatter([encoding.n_vocab], [ratio], marker=marker, zorder=3, label=f"{name} (trained on web text)")
        axes.annotate(f"{ratio:.2f}", (encoding.n_vocab, ratio), textcoords="offset points", xytext=(6, -12))
    axes.annotate(f"{ratios[-1]:.2f}", (sizes[-1], ratios[-1]), textcoords="offset points", xytext=(-10, 6))
    axes.set_xscale("log")
    axes.set_xlabel("vocabulary size (256 bytes + merges)")
    axes.set_ylabel("bytes per token on tiny shakespeare")
    axes.set_title("Compression against vocabulary size")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right", fontsize=8)
    compression = save_figure(figure, out / "compression.png", dpi=DPI)

    vocabularies = {f"ours ({tokenizer.vocab_size:,})": list(tokenizer.vocab.values())}
    for name, encoding in openai.items():
        vocabularies[f"{name} ({len(encoding.ranks):,})"] = list(encoding.ranks)
    figure, axes = new_figure(6.4, 4.0)
    bins = np.arange(1, 18) - 0.5
    for label, tokens in vocabularies.items():
        lengths = np.minimum([len(token) for token in tokens], 16)
        weights = np.full(len(lengths), 1 / len(lengths))
        axes.hist(lengths, bins=bins, weights=weights, histtype="step", linewidth=1.5, label=label)
    axes.set_xlabel("token length in bytes (16 = 16 or more)")
    axes.set_ylabel("fraction of the vocabulary")
    axes.set_title("How long the tokens are")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    lengths = save_figure(figure, out / "token_lengths.png", dpi=DPI)
    return [compression, lengths]
