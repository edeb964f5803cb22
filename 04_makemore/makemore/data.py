"""Names as training data: the 27-character vocabulary, the split, and context windows.

makemore's data is one lowercase name per line. The vocabulary is `.` (index 0) plus `a`-`z`
(1-26); `.` marks both the start and the end of a name, so "emma" becomes the bigrams
`.e em mm ma a.`. This module

- loads and validates names (a character outside a-z is an error naming the line, not a
  silent wrong model),
- shuffles them exactly as the lectures do (`random.seed(42); random.shuffle`) and splits
  80/10/10 into train/dev/test (lecture 2),
- builds the (context, next character) pairs for a fixed block size, vectorized,
- builds padded whole-name sequences for the recurrent models (makemore.py's layout).

It does not tokenize anything but single characters, and it does not touch other data sets.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.checks import check_memory

__all__ = [
    "CHARS",
    "VOCAB_SIZE",
    "Split",
    "build_dataset",
    "build_sequences",
    "decode",
    "encode",
    "load_names",
    "parse_names",
    "split_names",
]

CHARS = "." + "abcdefghijklmnopqrstuvwxyz"  # index 0 is the start/end token
VOCAB_SIZE = len(CHARS)  # 27
MAX_NAMES_BYTES = 16 * 2**20  # 70x names.txt; the context windows take about 50 bytes per character
STOI = {ch: i for i, ch in enumerate(CHARS)}
_LOOKUP = np.full(256, -1, dtype=np.int64)  # byte -> index, -1 for out-of-vocabulary
for _ch, _i in STOI.items():
    _LOOKUP[ord(_ch)] = _i


def encode(name: str) -> np.ndarray:
    """'emma' -> array([5, 13, 13, 1]); raises ValueError on characters outside a-z."""
    bad = sorted({ch for ch in name if ch not in STOI or ch == "."})
    if bad:
        raise ValueError(f"name {name!r} has characters outside the vocabulary a-z: {bad}")
    return np.array([STOI[ch] for ch in name], dtype=np.int64)


def decode(indices) -> str:
    """Indices back to text; stops at the first end token (0)."""
    out = []
    for i in indices:
        if int(i) == 0:
            break
        out.append(CHARS[int(i)])
    return "".join(out)


def parse_names(text: str, source: str = "names") -> list[str]:
    """One name per line, stripped, blank lines skipped; every character must be a-z.

    Raises ValueError naming the first offending line (with its line number) so that a wrong
    file fails at load time, not as a strange IndexError in the middle of training.
    """
    names = []
    for number, line in enumerate(text.splitlines(), start=1):
        name = line.strip()
        if not name:
            continue
        if not (name.isascii() and name.isalpha() and name.islower()):
            bad = sorted({ch for ch in name if ch not in STOI or ch == "."})
            raise ValueError(
                f"{source}, line {number}: {name!r} has characters outside the vocabulary a-z {bad}; "
                "makemore models lowercase names only (lowercase the file or remove those lines)"
            )
        names.append(name)
    if not names:
        raise ValueError(f"{source} holds no names")
    return names


def load_names(path: str | os.PathLike | None = None) -> list[str]:
    """The names from `path`, or the registered `names.txt` (32,033 names) through `shared`."""
    if path is None:
        from shared.data import read_text

        return parse_names(read_text("names.txt"), "names.txt")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"names file {path} does not exist or is not a file")
    if path.stat().st_size > MAX_NAMES_BYTES:
        raise ValueError(
            f"names file {path} is {path.stat().st_size:,} bytes, over the limit of {MAX_NAMES_BYTES:,} "
            "(names.txt is 228,145 bytes)"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text ({error})") from None
    return parse_names(text, str(path))


@dataclass
class Split:
    """Names split into train/dev/test lists."""

    train: list[str]
    dev: list[str]
    test: list[str]

    def __getitem__(self, name: str) -> list[str]:
        if name not in ("train", "dev", "test"):
            raise KeyError(f"split must be 'train', 'dev' or 'test', got {name!r}")
        return getattr(self, name)


def split_names(names: list[str], seed: int = 42, fractions: tuple[float, float] = (0.8, 0.9)) -> Split:
    """Shuffle with Python's `random` seeded by `seed`, then cut at 80% and 90% (lecture 2's split)."""
    if len(names) < 3:
        raise ValueError(f"need at least 3 names to split into train/dev/test, got {len(names)}")
    # Python's own generator, not NumPy's: random.seed(42); random.shuffle(words) is how the
    # lectures split, so the same seed gives the very same dev and test names as the lectures
    # (182,625 / 22,655 / 22,866 trigram windows on names.txt), and our losses compare directly.
    shuffled = list(names)
    random.Random(seed).shuffle(shuffled)
    n1, n2 = int(fractions[0] * len(names)), int(fractions[1] * len(names))
    split = Split(shuffled[:n1], shuffled[n1:n2], shuffled[n2:])
    if not (split.train and split.dev and split.test):  # an empty dev set would report a loss of 0
        raise ValueError(
            f"{len(names)} names are too few for a train/dev/test split of 80/10/10 "
            f"({len(split.train)}/{len(split.dev)}/{len(split.test)}); give at least 10 names"
        )
    return split


def _flat_with_ends(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """All names joined as '.emma.olivia.' indices, and where each name's first character sits."""
    joined = ("." + ".".join(names) + ".").encode("ascii")
    flat = _LOOKUP[np.frombuffer(joined, dtype=np.uint8)]
    if (flat < 0).any():
        raise ValueError("names contain characters outside the vocabulary a-z (use parse_names to validate)")
    lengths = np.array([len(n) for n in names], dtype=np.int64)
    starts = np.concatenate([[1], 1 + np.cumsum(lengths[:-1] + 1)])  # index of each name's first char
    return flat, starts


def build_dataset(names: list[str], block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (context, next character) pair: X (N, block_size) int64, Y (N,) int64.

    A name of length L gives L + 1 pairs; its contexts are left-padded with the start token,
    exactly like lecture 2's loop `context = context[1:] + [ix]`, but built with one gather.
    """
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    if not names:
        return np.zeros((0, block_size), np.int64), np.zeros(0, np.int64)
    lengths = np.array([len(n) for n in names], dtype=np.int64)
    # X, Y and the index arrays below: about (block_size + 8) int64 per pair, checked before building them
    pairs = int(lengths.sum()) + len(names)
    check_memory(8 * pairs * (block_size + 8), f"the context windows of {len(names):,} names")
    flat, starts = _flat_with_ends(names)
    counts = lengths + 1  # targets per name: its characters and the end token
    name_of = np.repeat(np.arange(len(names)), counts)  # (N,)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)  # position in name
    target_pos = starts[name_of] + offset  # (N,) index in flat of the target
    Y = flat[target_pos]
    # context position j (0..block-1) is target_pos - block + j; positions before the name are '.'
    ctx_pos = target_pos[:, None] - block_size + np.arange(block_size)[None, :]  # (N, block)
    before_start = ctx_pos < starts[name_of][:, None]
    X = np.where(before_start, 0, flat[np.maximum(ctx_pos, 0)])
    return X.astype(np.int64), Y.astype(np.int64)


def build_sequences(names: list[str], length: int) -> tuple[np.ndarray, np.ndarray]:
    """Padded whole names for the recurrent models (makemore.py's CharDataset).

    X[i] = [0, c1, ..., cL, 0, ...]; Y[i] = [c1, ..., cL, 0, -1, ...]: the input is shifted right
    by the start token, and targets after the end token are -1 (ignored by the loss).
    Both (N, length) int64, with `length` at least the longest name + 1.
    """
    longest = max((len(n) for n in names), default=0)
    if length < longest + 1:
        raise ValueError(
            f"sequence length {length} is too short for a name of {longest} characters (need >= {longest + 1})"
        )
    X = np.zeros((len(names), length), np.int64)
    Y = np.full((len(names), length), -1, np.int64)
    for row, name in enumerate(names):  # once per data set, not per training step
        ix = encode(name)
        X[row, 1 : 1 + len(ix)] = ix
        Y[row, : len(ix)] = ix
        Y[row, len(ix)] = 0
    return X, Y
