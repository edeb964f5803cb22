"""OpenAI's GPT-2 and GPT-4 (cl100k_base) tokenizers, built from their published files.

Both are byte-level BPE given as *ranks*: `{token_bytes: rank}`, where the rank is both the token
id and the merge priority (lower merges first). Encoding a chunk works on bytes, as tiktoken does:
start from single bytes and repeatedly join the adjacent pair whose concatenation has the lowest
rank (the leftmost one on a tie) until no concatenation is a token.

- GPT-2 (`vocab.bpe` + `encoder.json`): the merges and the vocabulary are written in GPT-2's
  "bytes to unicode" alphabet, which maps each of the 256 bytes to a printable character (the
  printable Latin-1 ones to themselves, the other 68 to U+0100...), so that BPE code written for
  text could run on bytes. We undo that mapping to get the byte ranks, and check that the two
  files agree (merge `i` is token `256 + i`).
- GPT-4 (`cl100k_base.tiktoken`): one `base64(token_bytes) rank` line per token; the five special
  tokens are not in the file (tiktoken adds them in code, so do we).

The interface and semantics are tiktoken's: `encode(text, allowed_special=set(), disallowed_special="all")`
raises ValueError on disallowed special-token text, `encode_ordinary`, `decode(ids, errors="replace")`,
`decode_bytes`. Lone surrogates in the input are replaced by U+FFFD before encoding (as tiktoken),
and letters and numbers follow tiktoken's Unicode tables (`regex_tokenizer.SplitPattern`).
Encoded chunks are cached (text repeats: "the" is encoded once). The files are read as hostile:
size-limited, and every line and JSON value is checked.

Not done here: finding the files (`corpus.get_encoding` fetches them through `shared.data`).

Not done here either: training (these vocabularies were trained by OpenAI), batch/threaded encoding.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
import os
from pathlib import Path

from .base import clean_surrogates, lookup_bytes, split_on_specials
from .regex_tokenizer import GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN, SplitPattern

__all__ = ["GPT2Tokenizer", "GPT4Tokenizer", "RankedBPE", "bytes_to_unicode"]

MAX_FILE_BYTES = 64 * 2**20  # OpenAI's files are 0.5-1.7 MB (o200k's would be 3.6 MB)

ENDOFTEXT = "<|endoftext|>"
CL100K_SPECIAL_TOKENS = {
    ENDOFTEXT: 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character map: printable Latin-1 bytes stay, the rest go to U+0100 onward."""
    # exercise: bytes_to_unicode: printable bytes stay, the other 68 go to U+0100... (README: Byte-level BPE)
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    mapping = {b: chr(b) for b in printable}
    shifted = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + shifted)
            shifted += 1
    return mapping
    # end exercise


def _read(source: bytes | str | os.PathLike) -> bytes:
    """A file's bytes (size-limited), or the bytes given (a caller that fetched or gunzipped them)."""
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{path} is {size:,} bytes, over the limit of {MAX_FILE_BYTES:,} for a vocabulary file")
    return path.read_bytes()


def _name(source) -> str:
    return "the given bytes" if isinstance(source, (bytes, bytearray)) else str(source)


class RankedBPE:
    """A byte-level BPE given as ranks plus a split pattern and special tokens (tiktoken's `Encoding`)."""

    def __init__(self, name: str, pattern: str, ranks: dict[bytes, int], special_tokens: dict[str, int]):
        self.name = name
        self.pattern = pattern
        self.compiled_pattern = SplitPattern(pattern)
        self.ranks = ranks
        self.special_tokens = dict(special_tokens)
        self.decoder: dict[int, bytes] = {rank: token for token, rank in ranks.items()}
        if len(self.decoder) != len(ranks):
            raise ValueError(f"{name}: two tokens share a rank")
        for token, idx in self.special_tokens.items():
            if idx in self.decoder:
                raise ValueError(f"{name}: special token {token!r} has id {idx}, already an ordinary token")
            self.decoder[idx] = token.encode("utf-8")
        self.cache: dict[str, tuple[int, ...]] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: {self.n_vocab} tokens>"

    @property
    def n_vocab(self) -> int:
        return max(self.decoder) + 1

    @property
    def eot_token(self) -> int | None:
        """The id of <|endoftext|> (as tiktoken's `Encoding.eot_token`)."""
        return self.special_tokens.get(ENDOFTEXT)

    @property
    def special_tokens_set(self) -> set[str]:
        return set(self.special_tokens)

    # ----------------------------------------------------------------- encoding

    def _bpe(self, piece: bytes) -> tuple[int, ...]:
        """Byte pair merge of one chunk: join the lowest-ranked adjacent pair until none is a token.

        Ties go to the leftmost pair. The plain loop rescans the chunk after every join, O(n^2); long
        chunks (a run of 10,000 spaces) use the heap version instead, O(n log n), with the same result.
        """
        return self._bpe_fast(piece) if len(piece) > 64 else self._bpe_loop(piece)

    def _bpe_loop(self, piece: bytes) -> tuple[int, ...]:
        """The plain loop: find the lowest-ranked adjacent pair, join it, repeat."""
        ranks = self.ranks
        parts = [piece[i : i + 1] for i in range(len(piece))]
        while len(parts) > 1:
            best_rank, best_i = None, -1
            for i in range(len(parts) - 1):
                rank = ranks.get(parts[i] + parts[i + 1])
                if rank is not None and (best_rank is None or rank < best_rank):
                    best_rank, best_i = rank, i
            if best_rank is None:
                break
            parts[best_i : best_i + 2] = [parts[best_i] + parts[best_i + 1]]
        return tuple(ranks[part] for part in parts)

    def _bpe_fast(self, piece: bytes) -> tuple[int, ...]:
        """`_bpe` for long chunks: parts in a linked list, candidate joins in a heap of (rank, start)."""
        ranks = self.ranks
        n = len(piece)
        parts = [piece[i : i + 1] for i in range(n)]
        next_ = [*range(1, n), -1]
        prev = [-1, *range(n - 1)]
        heap = []
        for i in range(n - 1):
            rank = ranks.get(parts[i] + parts[i + 1])
            if rank is not None:
                heap.append((rank, i))
        heapq.heapify(heap)
        while heap:
            rank, i = heapq.heappop(heap)
            j = next_[i] if parts[i] is not None else -1
            if j == -1 or ranks.get(parts[i] + parts[j]) != rank:
                continue  # stale: one side has been joined to something else since
            parts[i], parts[j] = parts[i] + parts[j], None
            k = next_[j]
            next_[i] = k
            if k != -1:
                prev[k] = i
                right = ranks.get(parts[i] + parts[k])
                if right is not None:
                    heapq.heappush(heap, (right, i))
            p = prev[i]
            if p != -1:
                left = ranks.get(parts[p] + parts[i])
                if left is not None:
                    heapq.heappush(heap, (left, p))
        return tuple(ranks[part] for part in parts if part is not None)

    def _encode_chunks(self, text: str, ids: list[int]) -> None:
        cache, ranks = self.cache, self.ranks
        for chunk in self.compiled_pattern.findall(text):
            tokens = cache.get(chunk)
            if tokens is None:
                piece = chunk.encode("utf-8")
                rank = ranks.get(piece)
                tokens = (rank,) if rank is not None else self._bpe(piece)
                if len(cache) < 1_000_000:  # bound memory on adversarial input
                    cache[chunk] = tokens
            ids.extend(tokens)

    def encode_ordinary(self, text: str) -> list[int]:
        """Text -> ids, ignoring special tokens (their text is encoded like any other)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        ids: list[int] = []
        self._encode_chunks(clean_surrogates(text), ids)
        return ids

    def encode(self, text: str, *, allowed_special=frozenset(), disallowed_special="all") -> list[int]:
        """Text -> ids, with tiktoken's special-token rules.

        allowed_special: set of special tokens (or "all") encoded as their ids; default none.
        disallowed_special: set (or "all" = every special token not allowed) whose text raises ValueError;
        pass () to encode such text as ordinary text.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        if allowed_special == "all":
            allowed_special = self.special_tokens_set
        elif allowed_special is None:
            allowed_special = set()
        elif isinstance(allowed_special, str):
            raise ValueError(f'allowed_special must be a set of special tokens or "all", got {allowed_special!r}')
        allowed_special = set(allowed_special)
        unknown = allowed_special - self.special_tokens_set
        if unknown:
            raise ValueError(f"allowed_special names tokens that {self.name} does not have: {sorted(unknown)}")
        if disallowed_special == "all":
            disallowed_special = self.special_tokens_set - allowed_special
        elif isinstance(disallowed_special, str):
            raise ValueError(
                f'disallowed_special must be a collection of special tokens or "all", got {disallowed_special!r}'
            )
        hits = sorted((text.find(token), token) for token in disallowed_special if token in text)
        if hits:
            token = hits[0][1]
            raise ValueError(
                f"Encountered text corresponding to disallowed special token {token!r}.\n"
                f"Pass it in allowed_special (e.g. allowed_special={{{token!r}}}) to encode it as a special "
                f"token, or disallowed_special=() to encode it as ordinary text."
            )
        text = clean_surrogates(text)
        special = {token: self.special_tokens[token] for token in allowed_special}
        ids: list[int] = []
        for part, idx in split_on_specials(text, special):
            if idx is None:
                self._encode_chunks(part, ids)
            else:
                ids.append(idx)
        return ids

    # ----------------------------------------------------------------- decoding

    def decode_bytes(self, ids) -> bytes:
        """Token ids -> the bytes they stand for; ValueError for an id that is not an integer token id."""
        return lookup_bytes(ids, self.decoder, f"the {self.name}")

    def decode(self, ids, errors: str = "replace") -> str:
        """Token ids -> text; bytes that are not valid UTF-8 follow `errors` (U+FFFD by default)."""
        return self.decode_bytes(ids).decode("utf-8", errors=errors)

    def decode_single_token_bytes(self, idx: int) -> bytes:
        return self.decode_bytes([idx])


class GPT2Tokenizer(RankedBPE):
    """GPT-2's tokenizer (tiktoken's `gpt2`), 50,257 tokens."""

    @classmethod
    def from_files(cls, vocab_bpe: bytes | str | os.PathLike, encoder_json: bytes | str | os.PathLike) -> GPT2Tokenizer:
        """Build from OpenAI's `vocab.bpe` (merges) and `encoder.json` (token -> id); checks they agree.

        Each is a path or the file's bytes.
        """
        byte_of = {char: b for b, char in bytes_to_unicode().items()}

        def to_bytes(token: str, where: str) -> bytes:
            try:
                return bytes(byte_of[char] for char in token)
            except KeyError:
                raise ValueError(f"{where}: {token[:40]!r} has a character outside GPT-2's byte alphabet") from None

        try:
            lines = _read(vocab_bpe).decode("utf-8").split("\n")
        except UnicodeDecodeError:
            raise ValueError(f"{_name(vocab_bpe)}: not UTF-8 text; is this GPT-2's vocab.bpe?") from None
        if not lines[0].startswith("#version"):
            raise ValueError(f"{_name(vocab_bpe)}: first line should be '#version: 0.2', got {lines[0][:50]!r}")
        # the ranks of the single bytes: GPT-2's byte alphabet order (the printable characters first)
        ranks = {bytes([b]): rank for rank, b in enumerate(bytes_to_unicode())}
        for number, line in enumerate(lines[1:], start=2):
            if not line:
                continue
            fields = line.split()
            if len(fields) != 2:
                raise ValueError(f"{_name(vocab_bpe)}: line {number}: expected two tokens, got {line[:60]!r}")
            where = f"{_name(vocab_bpe)} line {number}"
            merged = to_bytes(fields[0], where) + to_bytes(fields[1], where)
            if merged in ranks:
                raise ValueError(f"{_name(vocab_bpe)}: line {number}: token {merged!r} is made twice")
            ranks[merged] = len(ranks)

        try:
            encoder = json.loads(_read(encoder_json))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(
                f"{_name(encoder_json)}: not valid JSON ({error}); is this GPT-2's encoder.json?"
            ) from None
        except RecursionError:
            raise ValueError(f"{_name(encoder_json)}: JSON nested too deeply; is this GPT-2's encoder.json?") from None
        if not isinstance(encoder, dict):
            raise ValueError(f"{_name(encoder_json)}: expected a JSON object token -> id, not {type(encoder).__name__}")
        for token, idx in encoder.items():
            if isinstance(idx, bool) or not isinstance(idx, int):
                raise ValueError(f"{_name(encoder_json)}: the id of {token[:40]!r} must be an integer, got {idx!r:.40}")
        special = {token: idx for token, idx in encoder.items() if token == ENDOFTEXT}
        loaded = {to_bytes(token, _name(encoder_json)): idx for token, idx in encoder.items() if token != ENDOFTEXT}
        if loaded != ranks:
            raise ValueError(
                f"{_name(encoder_json)} does not match {_name(vocab_bpe)}: the vocabulary must hold the 256 bytes "
                f"then one token per merge, in merge order (mismatched or corrupt files)"
            )
        return cls("gpt2", GPT2_SPLIT_PATTERN, ranks, special)


class GPT4Tokenizer(RankedBPE):
    """GPT-4's tokenizer (tiktoken's `cl100k_base`), 100,277 ids, with its special tokens."""

    @classmethod
    def from_file(cls, cl100k_base_tiktoken: bytes | str | os.PathLike) -> GPT4Tokenizer:
        """Build from `cl100k_base.tiktoken` (a path or its bytes): lines `base64(token) rank`."""
        ranks: dict[bytes, int] = {}
        for number, line in enumerate(_read(cl100k_base_tiktoken).splitlines(), start=1):
            if not line:
                continue
            fields = line.split()
            try:
                token, rank = base64.b64decode(fields[0], validate=True), int(fields[1])
                if len(fields) != 2:
                    raise ValueError
            except (ValueError, IndexError, binascii.Error):
                raise ValueError(
                    f"{_name(cl100k_base_tiktoken)}: line {number}: expected 'base64 rank', got {line[:60]!r}"
                ) from None
            if token in ranks:
                raise ValueError(f"{_name(cl100k_base_tiktoken)}: line {number}: token {token!r} is listed twice")
            ranks[token] = rank
        if len(ranks) < 256 or any(bytes([b]) not in ranks for b in range(256)):
            raise ValueError(f"{_name(cl100k_base_tiktoken)}: a byte-level vocabulary must hold all 256 single bytes")
        return cls("cl100k_base", GPT4_SPLIT_PATTERN, ranks, CL100K_SPECIAL_TOKENS)
