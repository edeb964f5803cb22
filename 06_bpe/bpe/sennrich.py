"""Sennrich, Haddow & Birch (2015), "Neural Machine Translation of Rare Words with Subword Units".

The word-level BPE of the paper, exactly as its reference implementation (subword-nmt 0.3,
`learn_bpe` and `apply_bpe` with default options) runs it:

- `learn_bpe(lines, num_symbols, min_frequency=2)` learns merge operations from whitespace-split
  text. Words are split into characters; the end-of-word marker `</w>` is glued to the last
  character (subword-nmt's format v0.2, so `low` is `l o w</w>`). Each step merges the most
  frequent adjacent pair; ties go to the lexicographically largest pair (subword-nmt's
  `max(stats, key=lambda x: (stats[x], x))`); learning stops early when the best pair occurs fewer
  than `min_frequency` times.
- `write_codes` / `read_codes`: the codes file, a `#version: 0.2` header then one `left right` merge
  per line.
- `BPE(codes).process_line(line)` segments a line: every word is split into characters and the
  learned merges are applied in order of priority; non-final subwords get the `@@` separator
  (`lower` -> `low@@ er`).
- `paper_algorithm_1(vocab, num_merges)`: the paper's Algorithm 1 (its Python listing), on a
  vocabulary of space-separated symbols with a separate `</w>` symbol, for the toy example.

Not done here: subword-nmt's glossaries, BPE-dropout, vocabulary filtering, `--total-symbols` and
multiprocessing options. Words are split on the space character only (like subword-nmt), so a tab
inside a "word" is a character like any other.
"""

from __future__ import annotations

import heapq
import io
import itertools
import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from .base import merge

__all__ = [
    "BPE",
    "END_OF_WORD",
    "count_words",
    "learn_bpe",
    "paper_algorithm_1",
    "read_codes",
    "write_codes",
]

END_OF_WORD = "</w>"
CODES_HEADER = "#version: 0.2"

Pair = tuple[str, str]


# --------------------------------------------------------------------------- learning


def count_words(lines: Iterable[str]) -> Counter:
    """Word frequencies, with words split on single spaces like subword-nmt (empty words skipped)."""
    counts: Counter = Counter()
    for line in lines:
        for word in line.strip("\r\n ").split(" "):
            if word:
                counts[word] += 1
    return counts


def _symbols(word: str) -> list[str]:
    """'lower' -> ['l', 'o', 'w', 'e', 'r</w>']: characters, end-of-word marker glued to the last (v0.2)."""
    return [*word[:-1], word[-1] + END_OF_WORD]


class _LargestFirst:
    """Heap key that orders pairs descending, so the min-heap pops the lexicographically largest pair."""

    __slots__ = ("pair",)

    def __init__(self, pair: Pair):
        self.pair = pair

    def __lt__(self, other: _LargestFirst) -> bool:
        return self.pair > other.pair

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _LargestFirst) and self.pair == other.pair

    __hash__ = None  # only compared inside heap entries, never hashed


def _merge_symbols(symbols: list[str], first: str, second: str) -> list[str]:
    """Replace every occurrence of (first, second) by their concatenation, left to right, without overlaps."""
    return merge(symbols, (first, second), first + second)


def learn_bpe(
    corpus_lines: Iterable[str] | str,
    num_symbols: int,
    min_frequency: int = 2,
    verbose: bool = False,
) -> list[Pair]:
    """Learn up to `num_symbols` merge operations from text lines; returns them in order.

    Identical output to subword-nmt's `learn_bpe` (format v0.2). The algorithm is the paper's, made
    fast the usual way: pair counts are kept in a dict, an index maps each pair to the words that
    contain it, and after a merge only those words are re-counted (section 3.2: "the frequency of
    symbol pairs can be updated incrementally"). A heap with lazy deletion finds the best pair.
    """
    if isinstance(corpus_lines, str):
        corpus_lines = corpus_lines.splitlines()
    if isinstance(num_symbols, bool) or not isinstance(num_symbols, int) or num_symbols < 0:
        raise ValueError(f"num_symbols must be a non-negative int, got {num_symbols!r}")
    if isinstance(min_frequency, bool) or not isinstance(min_frequency, int) or min_frequency < 1:
        raise ValueError(f"min_frequency must be an int >= 1, got {min_frequency!r}")

    counts = count_words(corpus_lines)
    words = [_symbols(word) for word in counts]  # each word as its current list of symbols
    freqs = list(counts.values())

    pair_counts: dict[Pair, int] = defaultdict(int)
    where: dict[Pair, set[int]] = defaultdict(set)  # pair -> indices of words that may contain it
    for index, (symbols, freq) in enumerate(zip(words, freqs)):
        for pair in itertools.pairwise(symbols):
            pair_counts[pair] += freq
            where[pair].add(index)
    heap = [(-count, _LargestFirst(pair)) for pair, count in pair_counts.items()]
    heapq.heapify(heap)

    merges: list[Pair] = []
    while len(merges) < num_symbols:
        best, best_count = None, 0
        while heap:  # lazy deletion: skip entries whose count is stale
            negative, key = heapq.heappop(heap)
            if pair_counts.get(key.pair, 0) == -negative:
                best, best_count = key.pair, -negative
                break
        if best is None or best_count < min_frequency:
            if verbose:
                print(f"no pair has frequency >= {min_frequency}. Stopping", file=sys.stderr)
            break
        if verbose:
            print(
                f"pair {len(merges)}: {best[0]} {best[1]} -> {best[0]}{best[1]} (frequency {best_count})",
                file=sys.stderr,
            )
        merges.append(best)

        changed: set[Pair] = set()
        first, second = best
        for index in where.pop(best):
            old = words[index]
            new = _merge_symbols(old, first, second)
            if len(new) == len(old):
                continue  # stale index entry: the pair is no longer in this word
            freq = freqs[index]
            for pair in itertools.pairwise(old):  # re-count only this word's pairs
                pair_counts[pair] -= freq
                changed.add(pair)
            for pair in itertools.pairwise(new):
                pair_counts[pair] += freq
                where[pair].add(index)
                changed.add(pair)
            words[index] = new
        pair_counts.pop(best, None)
        changed.discard(best)
        for pair in changed:
            count = pair_counts[pair]
            if count > 0:
                heapq.heappush(heap, (-count, _LargestFirst(pair)))
            else:
                del pair_counts[pair]
    return merges


def paper_algorithm_1(vocab: dict[str, int], num_merges: int) -> list[Pair]:
    """The paper's Algorithm 1 on a toy vocabulary of space-separated symbols ('l o w </w>': 5).

    Recounts every pair each step and merges the most frequent; among equal counts it takes the
    pair seen first (Python's `max` over an insertion-ordered dict), as the paper's listing does.
    The merge is a regex over whole symbols, so 'e s' never matches inside 'ne st'.
    """
    # exercise: paper_algorithm_1: count pairs by word frequency, merge the best, repeat (README: Algorithm 1)
    vocab = dict(vocab)
    merges: list[Pair] = []
    for _ in range(num_merges):
        pairs: dict[Pair, int] = defaultdict(int)
        for word, freq in vocab.items():
            symbols = word.split()
            for pair in itertools.pairwise(symbols):
                pairs[pair] += freq
        if not pairs:
            break
        best = max(pairs, key=pairs.get)
        pattern = re.compile(r"(?<!\S)" + re.escape(" ".join(best)) + r"(?!\S)")
        vocab = {pattern.sub("".join(best), word): freq for word, freq in vocab.items()}
        merges.append(best)
    return merges
    # end exercise


# --------------------------------------------------------------------------- codes files


def write_codes(merges: Sequence[Pair], file: str | os.PathLike | io.TextIOBase) -> None:
    """Write merges in subword-nmt's codes format: `#version: 0.2`, then `left right` per line."""
    for number, pair in enumerate(merges):
        if len(pair) != 2 or any(not symbol or " " in symbol or "\n" in symbol for symbol in pair):
            raise ValueError(f"merge {number} must be two non-empty symbols without spaces, got {pair!r}")
    text = CODES_HEADER + "\n" + "".join(f"{left} {right}\n" for left, right in merges)
    if isinstance(file, (str, os.PathLike)):
        with open(file, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        file.write(text)


def read_codes(file: str | os.PathLike | io.TextIOBase) -> tuple[tuple[int, int], list[Pair]]:
    """Read a codes file; returns ((major, minor) version, merges). Raises ValueError if malformed."""
    if isinstance(file, (str, os.PathLike)):
        try:
            with open(file, encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError as error:
            bad = error.object[error.start : error.start + 1].hex()
            raise ValueError(
                f"{file} is not UTF-8 text (byte 0x{bad} at offset {error.start}: {error.reason})"
            ) from None
        name = str(file)
    else:
        text = file.read()
        name = getattr(file, "name", "codes")
    lines = text.rstrip("\n").split("\n")
    version, offset = (0, 1), 1
    if lines and lines[0].startswith("#version:"):
        field = lines[0].split()[-1]
        try:
            version = tuple(int(x) for x in re.sub(r"(\.0+)*$", "", field).split("."))
        except ValueError:
            raise ValueError(f"{name}: bad version line {lines[0]!r}") from None
        if version not in ((0, 1), (0, 2)):
            raise ValueError(f"{name}: codes version {field} is not supported (0.1 and 0.2 are)")
        lines, offset = lines[1:], 2
    if lines == [""]:
        lines = []  # header only: no merges
    merges: list[Pair] = []
    for number, line in enumerate(lines):
        item = tuple(line.strip("\r\n ").split(" "))
        if len(item) != 2 or not all(item):
            raise ValueError(
                f"{name}: invalid line {number + offset}: {line!r} (a merge is two subword units separated by a space)"
            )
        merges.append(item)
    return version, merges


# --------------------------------------------------------------------------- applying


class BPE:
    """Segment text with learned merges, like subword-nmt's `apply_bpe` with default options.

    `codes` is a codes file (path or open text file) or a list of merges (then format v0.2).
    `merges=-1` uses all of them; a positive number uses only the first ones.
    """

    def __init__(self, codes, merges: int = -1, separator: str = "@@"):
        if isinstance(codes, (str, os.PathLike)) or hasattr(codes, "read"):
            self.version, codes = read_codes(codes)
        else:
            self.version, codes = (0, 2), [tuple(pair) for pair in codes]
            for number, pair in enumerate(codes):
                if len(pair) != 2:
                    raise ValueError(f"merge {number} must be a pair of symbols, got {pair!r}")
        if isinstance(merges, bool) or not isinstance(merges, int) or merges < -1:
            raise ValueError(f"merges must be -1 (all) or a non-negative int, got {merges!r}")
        if merges != -1:
            codes = codes[:merges]
        if not separator:
            raise ValueError("separator must be a non-empty string")
        # rank of each merge; a duplicated merge keeps its first (highest-priority) rank
        self.ranks: dict[Pair, int] = {}
        for rank, pair in enumerate(codes):
            self.ranks.setdefault(pair, rank)
        self.separator = separator
        self.cache: dict[str, tuple[str, ...]] = {}

    def encode_word(self, word: str) -> tuple[str, ...]:
        """One word's subwords, without separators and without `</w>` ('lower' -> ('low', 'er'))."""
        if word in self.cache:
            return self.cache[word]
        if len(word) == 1:
            return (word,)
        if self.version == (0, 1):
            symbols = [*word, END_OF_WORD]
        else:
            symbols = _symbols(word)
        ranks = self.ranks
        while len(symbols) > 1:
            # the highest-priority merge among this word's pairs, applied at every position at once
            candidates = [(ranks[pair], pair) for pair in itertools.pairwise(symbols) if pair in ranks]
            if not candidates:
                break
            _, (first, second) = min(candidates)
            symbols = _merge_symbols(symbols, first, second)
        if symbols[-1] == END_OF_WORD:
            symbols = symbols[:-1]
        elif symbols[-1].endswith(END_OF_WORD):
            symbols[-1] = symbols[-1][: -len(END_OF_WORD)]
        result = tuple(symbols)
        self.cache[word] = result
        return result

    def segment_tokens(self, tokens: Iterable[str]) -> list[str]:
        """Subwords of a list of words; every subword except a word's last one ends with the separator."""
        output = []
        for word in tokens:
            if not word:
                continue  # double spaces
            pieces = self.encode_word(word)
            output.extend(piece + self.separator for piece in pieces[:-1])
            output.append(pieces[-1])
        return output

    def segment(self, sentence: str) -> str:
        """A whitespace-tokenized sentence, segmented: subwords joined by single spaces."""
        return " ".join(self.segment_tokens(sentence.strip("\r\n ").split(" ")))

    def process_line(self, line: str) -> str:
        """Segment one line, keeping its leading and trailing whitespace (spaces, CR, LF) as they are."""
        leading = len(line) - len(line.lstrip("\r\n "))
        out = line[:leading] + self.segment(line)
        trailing = len(line) - len(line.rstrip("\r\n "))
        if trailing and trailing != len(line):
            out += line[-trailing:]
        return out
