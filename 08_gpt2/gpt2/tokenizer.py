"""GPT-2's byte-level BPE tokenizer (Radford et al. 2019, sec. 2.2), and a character tokenizer.

`GPT2Tokenizer` loads OpenAI's published `encoder.json` (token string -> id) and `vocab.bpe`
(merges in priority order) and encodes exactly as OpenAI's `encoder.py` and tiktoken's "gpt2":
split the text with GPT-2's regex (so merges never cross letter/number/punctuation/space
boundaries), map each chunk's UTF-8 bytes to printable characters (`bytes_to_unicode`), then
apply merges lowest rank first. `<|endoftext|>` is id 50256, recognised only when asked for.

Two details keep the ids equal to tiktoken 0.14's on any text, whatever `regex` is installed:
- A lone surrogate (a str that is not valid Unicode, e.g. "\\ud800") is replaced by U+FFFD after
  joining valid surrogate pairs, as tiktoken does (it would otherwise fail to encode as UTF-8).
- The split pattern's letter and number classes are those of Unicode 16.0, the tables of the
  Rust regex crate inside tiktoken 0.14. The `regex` package follows newer Unicode (17.0 in
  regex 2026.x), which calls about 17,000 newer code points letters or numbers; those are
  listed in `NEWER_THAN_TIKTOKEN` and taken out of both classes (so they split as symbols, as
  in tiktoken). A parity test checks every letter and number code point against tiktoken.

Merging uses a heap of adjacent pairs and a linked list of parts, so a word of n bytes costs
O(n log n), not O(n^2) (a 10,000-letter word). It gives OpenAI's result (lowest rank first,
equal ranks left to right) because in a learned merge list a pair containing a merged token
always ranks after the merge that made it; the parity tests check it on whole books.

`CharTokenizer` is the character-level vocabulary of nanoGPT's shakespeare_char.
Not here: training a BPE vocabulary (this folder only uses the released one).
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
from collections.abc import Iterable
from functools import lru_cache

import regex

__all__ = [
    "EOT",
    "CharTokenizer",
    "GPT2Tokenizer",
    "bytes_to_unicode",
    "load_tokenizer",
    "load_tokenizer_file",
    "start_tokens",
]

EOT = "<|endoftext|>"
# GPT-2's split pattern: contractions, letter runs, digit runs, other symbols, each with an optional leading
# space; whitespace runs keep their last space for the following word ("\s+(?!\S)").
GPT2_SPLIT = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

# Code points that `regex` (Unicode 17.0) calls letters or numbers and tiktoken 0.14 (Unicode 16.0) does not:
# Unicode 17.0's new letters and numbers (found by comparing the two on every code point; see the module doc).
NEWER_THAN_TIKTOKEN = (
    "558 58B-58C 88F C5C CDC 208F 209D-209F A7CE-A7CF A7D2 A7D4 A7DD A7E2 A7F1 AB6C-AB6D 107BB-107BF 10940-10959 "
    "10EC5-10EC7 10ED9-10EEE 11B0A 11DB0-11DDB 11DE0-11DE9 11DF1 1246F 12475-1247F 12550-12686 16EA0-16EB8 "
    "16EBB-16ED3 16FF2-16FF6 187F8-187FF 18CD6-18CDA 18D09-18D20 18D80-18DF2 18E00-19191 191A0-191D2 1B123-1B128 "
    "1B168 1D6A6 1DF1F-1DF24 1DF2B-1DF81 1DF90-1DF96 1DFCD-1DFFF 1E6C0-1E6DE 1E6E0-1E6E2 1E6E4-1E6E5 1E6E7-1E6ED "
    "1E6F0-1E6F4 1E6FE-1E6FF 2B73A-2B73F 2B81E 2CEA2-2CEAD 323B0-33479 3D000-3FC3F"
)


def _class_of(ranges: str) -> str:
    """'58B-58C 88F' -> the escapes '\\U0000058B-\\U0000058C\\U0000088F', for a regex character class."""
    return "".join("-".join(f"\\U{int(end, 16):08X}" for end in item.split("-")) for item in ranges.split())


def split_pattern() -> str:
    """GPT2_SPLIT with the letter and number classes of Unicode 16.0 (regex's VERSION1 set difference)."""
    new = f"[{_class_of(NEWER_THAN_TIKTOKEN)}]"
    letter, number = f"[\\p{{L}}--{new}]", f"[\\p{{N}}--{new}]"
    return (
        r"""(?V1)'s|'t|'re|'ve|'m|'ll|'d"""
        f"| ?{letter}+| ?{number}+| ?[^\\s{letter}{number}]+"
        r"""|\s+(?!\S)|\s+"""
    )


def valid_unicode(text: str) -> str:
    """`text`, with surrogate pairs joined and lone surrogates replaced by U+FFFD (tiktoken's rule)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


@lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """Byte -> printable character, so that BPE tokens are readable strings (OpenAI's encoder.py).

    The 188 printable Latin-1 bytes map to themselves; the other 68 (controls, space, ...) are
    shifted to 256 + n, so no byte becomes whitespace or a control character.
    """
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    mapping, shift = {b: chr(b) for b in keep}, 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + shift)
            shift += 1
    return mapping


class GPT2Tokenizer:
    """Byte-level BPE with GPT-2's released vocabulary (50,257 tokens)."""

    def __init__(self, encoder: dict[str, int], merges: list[tuple[str, str]]):
        self.encoder = encoder
        self.decoder = {i: s for s, i in encoder.items()}
        self.ranks = {pair: rank for rank, pair in enumerate(merges)}
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {c: b for b, c in self.byte_encoder.items()}
        self.token_bytes = {i: bytes(self.byte_decoder[c] for c in s) for s, i in encoder.items()}
        self.pattern = regex.compile(split_pattern())
        self.eot_id = encoder[EOT]
        self.vocab_size = len(encoder)
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def from_files(cls, encoder_json: str, vocab_bpe: str) -> GPT2Tokenizer:
        """From the contents of encoder.json and vocab.bpe."""
        try:
            encoder = json.loads(encoder_json)
        except json.JSONDecodeError as error:
            raise ValueError(f"encoder.json is not valid JSON ({error})") from None
        lines = [line for line in vocab_bpe.split("\n")[1:] if line]  # first line: "#version: 0.2"
        merges = []
        for number, line in enumerate(lines, start=2):
            parts = line.split(" ")
            if len(parts) != 2:
                raise ValueError(f"vocab.bpe line {number} is not a merge 'a b': {line!r}")
            merges.append((parts[0], parts[1]))
        if EOT not in encoder:
            raise ValueError(f"encoder.json has no {EOT} token")
        return cls(encoder, merges)

    @classmethod
    def load(cls) -> GPT2Tokenizer:
        """The released GPT-2 files, found (or downloaded and verified) by `shared.data`."""
        from shared.data import fetch, read_bytes

        return cls.from_files(
            read_bytes(fetch("gpt2/encoder.json")).decode("utf-8"), read_bytes(fetch("gpt2/vocab.bpe")).decode("utf-8")
        )

    def _bpe(self, chunk: str) -> list[int]:
        """Merge the characters of one pre-tokenized chunk, lowest-ranked pair first."""
        cached = self._cache.get(chunk)
        if cached is not None:
            return cached
        ids = [self.encoder[piece] for piece in self._merge(list(chunk))]
        if len(self._cache) < 100_000:
            self._cache[chunk] = ids
        return ids

    def _merge(self, parts: list[str]) -> list[str]:
        """Apply merges to `parts` in rank order (equal ranks left to right) in O(n log n).

        The heap holds (rank, position) of adjacent pairs; `after` links each live part to the
        next. A merge joins part i with its successor and pushes the two new pairs it makes; an
        entry whose pair has changed since it was pushed is stale and skipped.
        """
        ranks, n = self.ranks, len(parts)
        after = list(range(1, n + 1))  # index of the next live part (n: none)
        before = list(range(-1, n - 1))  # index of the previous live part (-1: none)
        heap = [(ranks[pair], i) for i, pair in enumerate(itertools.pairwise(parts)) if pair in ranks]
        heapq.heapify(heap)
        while heap:
            rank, i = heapq.heappop(heap)
            j = after[i]
            if parts[i] is None or j >= n or ranks.get((parts[i], parts[j])) != rank:
                continue  # stale: part i was merged away or has a new successor
            parts[i], parts[j] = parts[i] + parts[j], None
            after[i] = after[j]
            if after[i] < n:
                before[after[i]] = i
                rank = ranks.get((parts[i], parts[after[i]]))
                if rank is not None:
                    heapq.heappush(heap, (rank, i))
            if before[i] >= 0:
                rank = ranks.get((parts[before[i]], parts[i]))
                if rank is not None:
                    heapq.heappush(heap, (rank, before[i]))
        return [part for part in parts if part is not None]

    def encode_ordinary(self, text: str) -> list[int]:
        """Token ids of `text`, treating `<|endoftext|>` as plain text."""
        ids: list[int] = []
        table = self.byte_encoder
        for chunk in self.pattern.findall(valid_unicode(text)):
            ids.extend(self._bpe("".join(table[b] for b in chunk.encode("utf-8"))))
        return ids

    def encode(self, text: str, allow_eot: bool = False) -> list[int]:
        """Token ids of `text`; with allow_eot, each `<|endoftext|>` becomes the single id 50256."""
        if not allow_eot:
            return self.encode_ordinary(text)
        ids: list[int] = []
        for index, part in enumerate(valid_unicode(text).split(EOT)):
            if index:
                ids.append(self.eot_id)
            ids.extend(self.encode_ordinary(part))
        return ids

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The raw bytes of `ids` (a token may hold part of a UTF-8 character)."""
        ids = _integer_ids(ids)
        try:
            return b"".join(self.token_bytes[i] for i in ids)
        except KeyError as error:
            raise ValueError(
                f"token id {error.args[0]} is not in the GPT-2 vocabulary [0, {self.vocab_size})"
            ) from None

    def decode(self, ids: Iterable[int]) -> str:
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def to_dict(self) -> dict:
        return {"type": "gpt2"}


class CharTokenizer:
    """One token per character, ids in sorted character order (nanoGPT's shakespeare_char)."""

    def __init__(self, chars: Iterable[str]):
        self.chars = sorted(set(chars))
        if not self.chars or any(len(c) != 1 for c in self.chars):
            raise ValueError("a character vocabulary needs at least one single-character entry")
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        self.vocab_size = len(self.chars)

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        return cls(set(text))

    def encode(self, text: str, allow_eot: bool = False) -> list[int]:
        unknown = sorted(set(text) - set(self.stoi))
        if unknown:
            raise ValueError(f"characters not in the model's vocabulary: {''.join(unknown)!r}")
        return [self.stoi[c] for c in text]

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        return self.decode(ids).encode("utf-8")

    def decode(self, ids: Iterable[int]) -> str:
        ids = _integer_ids(ids)
        try:
            return "".join(self.chars[i] if i >= 0 else "" for i in ids)
        except IndexError:
            raise ValueError(f"token id out of the character vocabulary [0, {self.vocab_size})") from None

    def to_dict(self) -> dict:
        return {"type": "char", "chars": "".join(self.chars)}


def start_tokens(tokenizer) -> list[int]:
    """What to generate from when there is no prompt: <|endoftext|>, or a newline (else id 0) for characters."""
    if isinstance(tokenizer, GPT2Tokenizer):
        return [tokenizer.eot_id]
    return [tokenizer.stoi.get("\n", 0)]


def _integer_ids(ids: Iterable) -> list[int]:
    """The ids as Python ints, refusing floats, booleans and strings (decode([65.0]) is a mistake, not 'A')."""
    import numbers

    ids = list(ids)
    for i in ids:
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise ValueError(f"token ids must be integers, got {i!r}")
    return [int(i) for i in ids]


def load_tokenizer(spec: dict | None):
    """A tokenizer from its `to_dict()` form; None means GPT-2's BPE."""
    if spec is not None and not isinstance(spec, dict):
        raise ValueError(f"a tokenizer description must be a JSON object, not {type(spec).__name__}")
    if spec is None or spec.get("type") == "gpt2":
        return GPT2Tokenizer.load()
    if spec.get("type") == "char" and isinstance(spec.get("chars"), str):
        if len(spec["chars"]) > MAX_CHARS:
            raise ValueError(f"a character vocabulary of {len(spec['chars'])} symbols is over the limit of {MAX_CHARS}")
        return CharTokenizer(spec["chars"])
    raise ValueError(f"unknown tokenizer description {str(spec)[:200]!r}")


MAX_CHARS = 1 << 20


def load_tokenizer_file(path: str | os.PathLike):
    """The tokenizer described by a model folder's `tokenizer.json`; GPT-2's BPE when there is none."""
    from shared.checkpoint import load_json

    if not os.path.exists(path):
        return load_tokenizer(None)
    return load_tokenizer(load_json(path, want_object=True))
