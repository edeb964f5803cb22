"""GPT-2's byte-level BPE tokenizer (Radford et al. 2019, sec. 2.2), and a character tokenizer.

`GPT2Tokenizer` loads OpenAI's published `encoder.json` (token string -> id) and `vocab.bpe`
(merges in priority order) and encodes exactly as OpenAI's `encoder.py` and tiktoken's "gpt2":
split the text with GPT-2's regex (so merges never cross letter/number/punctuation/space
boundaries), map each chunk's UTF-8 bytes to printable characters (`bytes_to_unicode`), then
apply merges lowest rank first. `<|endoftext|>` is id 50256, recognised only when asked for.

`CharTokenizer` is the character-level vocabulary of nanoGPT's shakespeare_char.
Not here: training a BPE vocabulary (this folder only uses the released one).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from functools import lru_cache

import regex

__all__ = ["EOT", "CharTokenizer", "GPT2Tokenizer", "bytes_to_unicode", "load_tokenizer", "start_tokens"]

EOT = "<|endoftext|>"
# GPT-2's split pattern: contractions, letter runs, digit runs, other symbols, each with an optional leading
# space; whitespace runs keep their last space for the following word ("\s+(?!\S)").
GPT2_SPLIT = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


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
        self.pattern = regex.compile(GPT2_SPLIT)
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
        word = list(chunk)
        while len(word) > 1:
            pairs = itertools.pairwise(word)
            best = min(pairs, key=lambda pair: self.ranks.get(pair, float("inf")))
            if best not in self.ranks:
                break
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == best[0] and word[i + 1] == best[1]:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        ids = [self.encoder[piece] for piece in word]
        if len(self._cache) < 100_000:
            self._cache[chunk] = ids
        return ids

    def encode_ordinary(self, text: str) -> list[int]:
        """Token ids of `text`, treating `<|endoftext|>` as plain text."""
        ids: list[int] = []
        table = self.byte_encoder
        for chunk in self.pattern.findall(text):
            ids.extend(self._bpe("".join(table[b] for b in chunk.encode("utf-8"))))
        return ids

    def encode(self, text: str, allow_eot: bool = False) -> list[int]:
        """Token ids of `text`; with allow_eot, each `<|endoftext|>` becomes the single id 50256."""
        if not allow_eot:
            return self.encode_ordinary(text)
        ids: list[int] = []
        for index, part in enumerate(text.split(EOT)):
            if index:
                ids.append(self.eot_id)
            ids.extend(self.encode_ordinary(part))
        return ids

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The raw bytes of `ids` (a token may hold part of a UTF-8 character)."""
        try:
            return b"".join(self.token_bytes[int(i)] for i in ids)
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
        try:
            return "".join(self.chars[int(i)] if int(i) >= 0 else "" for i in ids)
        except IndexError:
            raise ValueError(f"token id out of the character vocabulary [0, {self.vocab_size})") from None

    def to_dict(self) -> dict:
        return {"type": "char", "chars": "".join(self.chars)}


def start_tokens(tokenizer) -> list[int]:
    """What to generate from when there is no prompt: <|endoftext|>, or a newline (else id 0) for characters."""
    if isinstance(tokenizer, GPT2Tokenizer):
        return [tokenizer.eot_id]
    return [tokenizer.stoi.get("\n", 0)]


def load_tokenizer(spec: dict | None):
    """A tokenizer from its `to_dict()` form; None means GPT-2's BPE."""
    if spec is None or spec.get("type") == "gpt2":
        return GPT2Tokenizer.load()
    if spec.get("type") == "char" and isinstance(spec.get("chars"), str):
        return CharTokenizer(spec["chars"])
    raise ValueError(f"unknown tokenizer description {spec!r}")
