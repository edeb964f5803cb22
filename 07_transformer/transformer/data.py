"""Tokenization, vocabularies and batching for the two tasks (copy, Multi30k).

Tokenization is word level and deliberately simple: `tokenize` splits off punctuation with
the same rules as sacreBLEU's 13a tokenizer (so a hypothesis joined by spaces is scored
exactly like its detokenized form), keeps case, and `detokenize` glues punctuation back.
A `Vocab` keeps words seen at least `min_freq` times in the training data; rarer words map
to <unk>. Batches group sentences of similar length up to a token budget (section 5.1).
What is not here: subword (BPE) segmentation; see 06_bpe for that.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from .model import BOS_ID, EOS_ID, PAD_ID, UNK_ID

SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]  # ids 0..3, matching model.PAD_ID etc.

# sacreBLEU 13a / mteval-v13a rules (the same regular expressions as bleu.py).
_PUNCT = re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])")
_PERIOD_COMMA_AFTER = re.compile(r"([^0-9])([\.,])")
_PERIOD_COMMA_BEFORE = re.compile(r"([\.,])([^0-9])")
_DASH_AFTER_DIGIT = re.compile(r"([0-9])(-)")


def tokenize(line: str) -> list[str]:
    """'Two young, White males.' -> ['Two', 'young', ',', 'White', 'males', '.'] (13a rules)."""
    line = line.replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    line = _PUNCT.sub(r" \1 ", f" {line} ")
    line = _PERIOD_COMMA_AFTER.sub(r"\1 \2 ", line)
    line = _PERIOD_COMMA_BEFORE.sub(r" \1 \2", line)
    line = _DASH_AFTER_DIGIT.sub(r"\1 \2 ", line)
    return line.split()


_NO_SPACE_BEFORE = {".", ",", "!", "?", ";", ":", ")", "]", "}", "%"}
_NO_SPACE_AFTER = {"(", "[", "{", "$"}


def detokenize(tokens: list[str]) -> str:
    """Inverse of `tokenize` for ordinary text: no space before . , ! ? ; : ) and after (."""
    out = ""
    for index, token in enumerate(tokens):
        if index > 0 and token not in _NO_SPACE_BEFORE and tokens[index - 1] not in _NO_SPACE_AFTER:
            out += " "
        out += token
    return out


class Vocab:
    """Word <-> id mapping with the four special symbols first."""

    def __init__(self, words: list[str]):
        if list(words[:4]) != SPECIALS:
            raise ValueError(f"a vocabulary must start with {SPECIALS}")
        if len(set(words)) != len(words):
            raise ValueError("vocabulary words must be unique")
        self.words = list(words)
        self.index = {word: i for i, word in enumerate(self.words)}

    @classmethod
    def build(cls, sentences: list[list[str]], min_freq: int = 2, max_size: int | None = None) -> Vocab:
        """Words seen >= min_freq times, most frequent first (ties alphabetical, for determinism)."""
        if min_freq < 1:
            raise ValueError(f"min_freq must be >= 1, got {min_freq}")
        counts = Counter(word for sentence in sentences for word in sentence)
        kept = [w for w, n in counts.items() if n >= min_freq and w not in SPECIALS]
        kept.sort(key=lambda w: (-counts[w], w))
        if max_size is not None:
            kept = kept[: max(max_size - len(SPECIALS), 0)]
        return cls(SPECIALS + kept)

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, tokens: list[str], add_bos: bool = False, add_eos: bool = True) -> list[int]:
        ids = [self.index.get(token, UNK_ID) for token in tokens]
        return ([BOS_ID] if add_bos else []) + ids + ([EOS_ID] if add_eos else [])

    def decode(self, ids) -> list[str]:
        """Ids -> words, stopping at <eos> and skipping <pad>/<bos>."""
        words = []
        for i in ids:
            i = int(i)
            if i == EOS_ID:
                break
            if i in (PAD_ID, BOS_ID):
                continue
            if not 0 <= i < len(self.words):
                raise ValueError(f"token id {i} is outside the vocabulary of {len(self.words)}")
            words.append(self.words[i])
        return words

    def to_array(self) -> np.ndarray:
        return np.array(self.words, dtype=str)  # a unicode array: saved in .npz without pickle


def pad_batch(sequences: list[list[int]], pad_id: int = PAD_ID) -> np.ndarray:
    """List of id lists -> (B, T_max) int64 array, right-padded."""
    T = max((len(s) for s in sequences), default=0)
    out = np.full((len(sequences), T), pad_id, dtype=np.int64)
    for row, seq in enumerate(sequences):
        out[row, : len(seq)] = seq
    return out


def make_batches(src: list[list[int]], tgt: list[list[int]], max_tokens: int, rng=None) -> list[np.ndarray]:
    """Index arrays of batches of similar-length pairs, each at most ~max_tokens (padded) target tokens.

    Pairs are sorted by (target, source) length and cut greedily; with `rng` the order of
    the batches (not their content) is shuffled.
    """
    if len(src) != len(tgt):
        raise ValueError(f"{len(src)} source and {len(tgt)} target sentences: they must pair up")
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
    order = sorted(range(len(src)), key=lambda i: (len(tgt[i]), len(src[i])))
    batches, current, longest = [], [], 0
    for i in order:
        length = max(len(tgt[i]), len(src[i]))
        if current and max(longest, length) * (len(current) + 1) > max_tokens:
            batches.append(np.array(current))
            current, longest = [], 0
        current.append(i)
        longest = max(longest, length)
    if current:
        batches.append(np.array(current))
    if rng is not None:
        rng.shuffle(batches)
    return batches


def make_copy_data(n: int, length: int, vocab_size: int, rng) -> list[list[int]]:
    """The Annotated Transformer's copy task: n random sequences of symbols 3..vocab_size-1.

    Ids 0, 1, 2 are <pad>, <bos>, <eos>; with vocabulary 11 there are 8 symbols.
    """
    if vocab_size <= 4:
        raise ValueError(f"the copy task needs vocab_size > 4, got {vocab_size}")
    return rng.integers(3, vocab_size, size=(n, length)).tolist()
