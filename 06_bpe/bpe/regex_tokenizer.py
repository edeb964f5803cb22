"""Byte-level BPE with a pre-tokenization regex and special tokens (minbpe's RegexTokenizer).

GPT-2 (Radford et al. 2019, section 2.2) observed that plain BPE wastes merges on variants like
"dog." "dog!" "dog?": so the text is first cut into chunks (letters, numbers, punctuation,
whitespace) by a regex, and merges never cross a chunk boundary. Each chunk is then encoded
separately as UTF-8 bytes. Training deduplicates the chunks (a word seen 500 times is trained on
once, with weight 500) and uses the incremental trainer in `training.py`.

Special tokens (e.g. `<|endoftext|>`) are strings that map to one reserved id; `encode` only
produces them when allowed (see `encode`).

Not done here: the exact OpenAI vocabularies (`pretrained.py`).
"""

from __future__ import annotations

import itertools
from collections import Counter

import regex

from .base import Tokenizer, clean_surrogates

__all__ = ["GPT2_SPLIT_PATTERN", "GPT4_SPLIT_PATTERN", "PATTERNS", "RegexTokenizer"]

# tiktoken's versions (the published GPT-2 one, made possessive, plus `\s++$`; they cut text the
# same way as OpenAI's Rust code). Alternatives, left to right:
#   contractions | letters (with one leading non-letter) | 1-3 digits | punctuation run (+ newlines) |
#   whitespace at the end | whitespace up to a newline | whitespace not followed by a non-space | one space
GPT2_SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
GPT4_SPLIT_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|"""
    r"""\s+(?!\S)|\s"""
)
PATTERNS = {"gpt2": GPT2_SPLIT_PATTERN, "gpt4": GPT4_SPLIT_PATTERN}


class RegexTokenizer(Tokenizer):
    """Byte-level BPE on regex chunks; `pattern` defaults to GPT-4's (`PATTERNS["gpt2"]` is GPT-2's)."""

    def __init__(self, pattern: str | None = None):
        super().__init__()
        self._set_pattern(GPT4_SPLIT_PATTERN if pattern is None else pattern)
        self.cache: dict[str, tuple[int, ...]] = {}

    def _set_pattern(self, pattern: str) -> None:
        if pattern in PATTERNS:
            pattern = PATTERNS[pattern]
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"pattern must be a non-empty regex string (or 'gpt2'/'gpt4'), got {pattern!r}")
        try:
            self.compiled_pattern = regex.compile(pattern)
        except regex.error as error:
            raise ValueError(f"pattern {pattern!r} is not a valid regex: {error}") from None
        self.pattern = pattern
        self.cache = {}

    # ----------------------------------------------------------------- training

    def train(self, text: str, vocab_size: int, verbose: bool = False, callback=None) -> None:
        """Learn `vocab_size - 256` merges from `text`, chunked by the pattern, chunks deduplicated.

        `callback(step, pair, new_id, count, live_tokens)`, if given, is called after every merge.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        chunks = Counter(chunk.encode("utf-8") for chunk in self.compiled_pattern.findall(clean_surrogates(text)))
        self._fit(chunks, vocab_size, verbose, callback)
        self.cache = {}

    # ----------------------------------------------------------------- encoding

    def _encode_chunk(self, chunk: bytes) -> tuple[int, ...]:
        """Merge the chunk's lowest-ranked pair until no learned merge applies (minbpe's loop)."""
        ids = list(chunk)
        merges = self.merges
        while len(ids) >= 2:
            ranked = [(merges[pair], i) for i, pair in enumerate(itertools.pairwise(ids)) if pair in merges]
            if not ranked:
                break
            new_id = min(ranked)[0]
            out, i, n = [], 0, len(ids)
            positions = {i for rank, i in ranked if rank == new_id}
            while i < n:
                if i in positions and i < n - 1:
                    out.append(new_id)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            ids = out
        return tuple(ids)

    def encode_ordinary(self, text: str) -> list[int]:
        """Text -> ids, treating special-token strings as ordinary text."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        cache, ids = self.cache, []
        for chunk in self.compiled_pattern.findall(clean_surrogates(text)):
            tokens = cache.get(chunk)
            if tokens is None:
                tokens = cache[chunk] = self._encode_chunk(chunk.encode("utf-8"))
            ids.extend(tokens)
        return ids
