"""What every minbpe-style byte-level tokenizer shares: the merge, the vocabulary, decoding, save/load.

The contract of this folder (minbpe's, Karpathy 2024), in three functions:

- `get_stats(ids)`: how often each adjacent pair of token ids occurs.
- `merge(ids, pair, idx)`: replace every occurrence of `pair` by the new id `idx`, left to right,
  without overlaps (`a a a` with pair `(a, a)` becomes `aa a`). This one readable function is the
  merge of training (`training.train_recount`: count, take the best pair, `merge`) and of encoding
  (`apply_merges`: merge the lowest-ranked learned pair until none is left), as in minbpe.
- Where speed matters a fast version sits beside the readable one, named `_fast` or by what it does,
  and an equality test ties the two: `training.train_incremental` (tests/test_training.py),
  `basic.apply_merges_fast` (tests/test_basic.py), `pretrained.RankedBPE._bpe_fast`
  (tests/test_pretrained.py).

A trained tokenizer is its ordered merges `{(left_id, right_id): new_id}` (ids 0..255 are the raw
bytes, merge `i` makes id `256 + i`), an optional split pattern, and optional special tokens
(`{"<|endoftext|>": 100257}`) whose ids lie above the merged ones.

Files (minbpe's format, so minbpe models load here and the other way round):
- `prefix.model`: `minbpe v1`, the pattern, the number of special tokens, one `token id` line per
  special token, then one `left right` line per merge. This is what `load` reads, as hostile input:
  its size, every id, the length of every token and the split pattern are checked before use.
- `prefix.vocab`: for people only: every token rendered as text, with the two tokens it merges.

Encoding with special tokens is here too (`encode` cuts the text at the allowed special tokens, then
calls the subclass's `encode_ordinary` on the pieces in between).

Not done here: how text becomes ids between special tokens (`basic.py`, `regex_tokenizer.py`).
"""

from __future__ import annotations

import itertools
import numbers
import os
import unicodedata
import warnings
from pathlib import Path

import regex

__all__ = [
    "Tokenizer",
    "apply_merges",
    "check_ids",
    "clean_surrogates",
    "get_stats",
    "lookup_bytes",
    "merge",
    "render_token",
    "split_on_specials",
]

MODEL_HEADER = "minbpe v1"
MAX_MODEL_BYTES = 64 * 2**20  # a .model file: GPT-4's 100k merges would take about 1.2 MB
MAX_VOCAB_BYTES = 256 * 2**20  # all tokens' bytes together; real vocabularies hold about 1 MB
Pair = tuple[int, int]


# --------------------------------------------------------------------------- the merge


def get_stats(ids, counts: dict | None = None, weight: int = 1) -> dict:
    """Add the adjacent pairs of `ids` (overlapping ones too) to `counts`, each `weight` times.

    `get_stats([1, 2, 3, 1, 2])` is `{(1, 2): 2, (2, 3): 1, (3, 1): 1}`.
    """
    # exercise: get_stats: add every adjacent pair of ids to counts, weight times (README: Training fast)
    counts = {} if counts is None else counts
    for pair in itertools.pairwise(ids):
        counts[pair] = counts.get(pair, 0) + weight
    return counts
    # end exercise


def merge(ids, pair, idx):
    """Replace each occurrence of `pair` in `ids` by `idx`, left to right, without overlaps.

    `merge([1, 1, 1, 2], (1, 1), 9)` is `[9, 1, 2]`. Only equality is used, so it serves any
    symbols: `sennrich` merges strings with it (`pair=("lo", "w</w>")`, `idx="low</w>"`).
    """
    # exercise: merge: replace each pair by idx, left to right, no overlaps (README: How the code is written)
    a, b = pair
    out, i, n = [], 0, len(ids)
    while i < n:
        if i < n - 1 and ids[i] == a and ids[i + 1] == b:
            out.append(idx)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out
    # end exercise


def apply_merges(ids, merges: dict[Pair, int]) -> list[int]:
    """Encode: while some adjacent pair is a learned merge, `merge` the lowest-ranked one (minbpe's loop).

    The rank of a merge is the id it makes (learned earlier = lower id = merged first).
    """
    # exercise: apply_merges: merge the lowest-ranked learned pair until none is left (README: How the code...)
    ids = list(ids)
    while len(ids) >= 2:
        stats = get_stats(ids)
        pair = min(stats, key=lambda p: merges.get(p, float("inf")))
        if pair not in merges:
            break  # nothing left to merge
        ids = merge(ids, pair, merges[pair])
    return ids
    # end exercise


# --------------------------------------------------------------------------- text and ids


def replace_control_characters(text: str) -> str:
    """Control characters (newline, tab, ...) as \\uXXXX escapes so a vocab line stays on one line."""
    return "".join(ch if unicodedata.category(ch)[0] != "C" else f"\\u{ord(ch):04x}" for ch in text)


def render_token(token: bytes) -> str:
    """A token's bytes as printable text (invalid UTF-8 becomes U+FFFD)."""
    return replace_control_characters(token.decode("utf-8", errors="replace"))


def clean_surrogates(text: str) -> str:
    """Text that can be UTF-8 encoded: surrogate pairs joined, lone surrogates -> U+FFFD (as tiktoken)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def check_ids(ids, table, name: str = "the") -> None:
    """Raise ValueError naming the first id that is not an integer id in `table` (the vocabulary).

    Integers only: `65.0` and `True` are refused although a dict lookup would take them (65.0 == 65,
    True == 1). NumPy integers are integers.
    """
    for position, idx in enumerate(ids):
        if isinstance(idx, bool) or not isinstance(idx, numbers.Integral):
            raise ValueError(f"token id {idx!r} at position {position} is not an integer")
        if idx not in table:
            raise ValueError(f"token id {idx!r} at position {position} is not in {name} vocabulary")


def lookup_bytes(ids, table: dict[int, bytes], name: str = "the") -> bytes:
    """The bytes of token ids, concatenated; ValueError for an id that is not an integer in `table`."""
    ids = list(ids)
    if set(map(type, ids)) <= {int}:  # the common case: plain ints, checked at C speed
        try:
            return b"".join(map(table.__getitem__, ids))
        except KeyError:
            pass
    check_ids(ids, table, name)
    return b"".join(table[int(idx)] for idx in ids)


def split_on_specials(text: str, specials: dict[str, int]) -> list[tuple[str, int | None]]:
    """Cut text at occurrences of the special tokens: [(ordinary_text, None) or (token, id), ...].

    The leftmost occurrence wins; at one position the longest special token wins.
    """
    if not specials:
        return [(text, None)]
    alternatives = "|".join(regex.escape(token) for token in sorted(specials, key=len, reverse=True))
    parts: list[tuple[str, int | None]] = []
    start = 0
    for match in regex.finditer(alternatives, text):
        if match.start() > start:
            parts.append((text[start : match.start()], None))
        parts.append((match.group(), specials[match.group()]))
        start = match.end()
    if start < len(text):
        parts.append((text[start:], None))
    return parts


class Tokenizer:
    """Base class: merges, pattern, special tokens, vocabulary, decode, save and load."""

    def __init__(self):
        self.merges: dict[tuple[int, int], int] = {}
        self.pattern = ""
        self.special_tokens: dict[str, int] = {}
        self.inverse_special_tokens: dict[int, str] = {}
        self.vocab = self._build_vocab()

    # ----------------------------------------------------------------- vocabulary

    def _build_vocab(self) -> dict[int, bytes]:
        # exercise: build_vocab: bytes of every id: 256 bytes, merged pairs, specials (README: Byte-level BPE)
        vocab = {idx: bytes([idx]) for idx in range(256)}
        for (left, right), idx in self.merges.items():
            vocab[idx] = vocab[left] + vocab[right]
        for special, idx in self.special_tokens.items():
            vocab[idx] = special.encode("utf-8")
        return vocab
        # end exercise

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def register_special_tokens(self, special_tokens: dict[str, int]) -> None:
        """Add special tokens, e.g. {"<|endoftext|>": 100257}. Their ids must not collide with others."""
        merged_ids = 256 + len(self.merges)
        taken = {idx: name for name, idx in self.special_tokens.items()}
        for name, idx in special_tokens.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"a special token must be a non-empty string, got {name!r}")
            if any(ch.isspace() for ch in name):
                raise ValueError(f"special token {name!r} must not contain whitespace (the .model format is one line)")
            if isinstance(idx, bool) or not isinstance(idx, int) or idx < merged_ids:
                raise ValueError(
                    f"special token {name!r}: id must be an int >= {merged_ids} "
                    f"(above the byte and merged tokens), got {idx!r}"
                )
            if taken.get(idx, name) != name:
                raise ValueError(f"special token {name!r}: id {idx} is already used by {taken[idx]!r}")
            taken[idx] = name
        self.special_tokens = {**self.special_tokens, **special_tokens}
        self.inverse_special_tokens = {idx: name for name, idx in self.special_tokens.items()}
        self.vocab = self._build_vocab()

    # ----------------------------------------------------------------- training

    def _fit(self, chunk_counts, vocab_size: int, verbose: bool, callback=None) -> None:
        """Learn `vocab_size - 256` merges from deduplicated chunks and rebuild the vocabulary."""
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 256:
            raise ValueError(f"vocab_size must be an int >= 256 (the 256 byte tokens), got {vocab_size!r}")
        num_merges = vocab_size - 256
        clash = {name: idx for name, idx in self.special_tokens.items() if idx < vocab_size}
        if clash:
            raise ValueError(f"special tokens {clash} have ids below vocab_size {vocab_size}; register them above it")
        vocab = {idx: bytes([idx]) for idx in range(256)}

        def report(step, pair, new_id, count, live):
            vocab[new_id] = vocab[pair[0]] + vocab[pair[1]]
            if verbose:
                print(f"merge {step + 1}/{num_merges}: {pair} -> {new_id} ({vocab[new_id]}) had {count} occurrences")
            if callback is not None:
                callback(step, pair, new_id, count, live)

        from .training import train_incremental  # here, not at the top: training imports `merge` from this module

        merges = train_incremental(chunk_counts, num_merges, callback=report)
        if len(merges) < num_merges:
            warnings.warn(
                f"the text only allows {len(merges)} merges (every chunk is a single token); "
                f"vocab_size is {256 + len(merges)}, not {vocab_size}",
                stacklevel=3,
            )
        self.merges = {pair: 256 + i for i, pair in enumerate(merges)}
        self.vocab = self._build_vocab()

    # ----------------------------------------------------------------- encoding

    def encode_ordinary(self, text: str) -> list[int]:
        """Text -> ids, treating special-token strings as ordinary text (subclasses implement it)."""
        raise NotImplementedError

    def encode(self, text: str, allowed_special="none_raise") -> list[int]:
        """Text -> ids. `allowed_special`: "all", "none" (specials are text), "none_raise" (the default:
        raise ValueError if the text contains one), or a set of special tokens to allow."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        if allowed_special == "all":
            special = self.special_tokens
        elif allowed_special == "none":
            special = {}
        elif allowed_special == "none_raise":
            special = {}
            found = [token for token in self.special_tokens if token in text]
            if found:
                raise ValueError(
                    f"text contains special token(s) {found}; pass allowed_special='all' (or a set) to encode them "
                    f"as special ids, or 'none' to encode them as ordinary text"
                )
        elif isinstance(allowed_special, (set, frozenset)):
            unknown = set(allowed_special) - set(self.special_tokens)
            if unknown:
                raise ValueError(f"allowed_special names tokens that are not registered: {sorted(unknown)}")
            special = {token: idx for token, idx in self.special_tokens.items() if token in allowed_special}
        else:
            raise ValueError(f"allowed_special must be 'all', 'none', 'none_raise' or a set, got {allowed_special!r}")
        ids: list[int] = []
        for part, idx in split_on_specials(text, special):
            if idx is None:
                ids.extend(self.encode_ordinary(part))
            else:
                ids.append(idx)
        return ids

    # ----------------------------------------------------------------- decoding

    def decode_bytes(self, ids) -> bytes:
        """The bytes of a list of token ids (specials as their UTF-8 text); ValueError for a bad id."""
        return lookup_bytes(ids, self.vocab)

    def decode(self, ids, errors: str = "replace") -> str:
        """Token ids -> text. Token boundaries may split a character: such bytes become U+FFFD."""
        return self.decode_bytes(ids).decode("utf-8", errors=errors)

    # ----------------------------------------------------------------- save / load

    def save(self, file_prefix: str | os.PathLike) -> tuple[Path, Path]:
        """Write `prefix.model` (for `load`) and `prefix.vocab` (for reading); returns both paths."""
        prefix = Path(file_prefix)
        prefix.parent.mkdir(parents=True, exist_ok=True)
        model_file = prefix.with_name(prefix.name + ".model")
        lines = [MODEL_HEADER, self.pattern, str(len(self.special_tokens))]
        lines += [f"{name} {idx}" for name, idx in self.special_tokens.items()]
        lines += [f"{left} {right}" for left, right in self.merges]
        model_file.write_text("\n".join(lines) + "\n", encoding="utf-8")

        vocab_file = prefix.with_name(prefix.name + ".vocab")
        children = {idx: pair for pair, idx in self.merges.items()}
        rows = []
        for idx, token in self.vocab.items():
            text = render_token(token)
            if idx in children:
                left, right = children[idx]
                rows.append(f"[{render_token(self.vocab[left])}][{render_token(self.vocab[right])}] -> [{text}] {idx}")
            else:
                rows.append(f"[{text}] {idx}")
        vocab_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
        return model_file, vocab_file

    def load(self, model_file: str | os.PathLike, *, allow_pattern: bool = False) -> Tokenizer:
        """Read a `.model` file written by `save` (or by minbpe). Raises ValueError if it is malformed.

        The file is hostile until checked: its size, the ids of every merge and special token, the
        total length of the tokens the merges build (40 lines that each double a token would ask
        for a terabyte) and its split pattern. A pattern other than the known GPT-2/GPT-4 ones (a
        pattern is code: `(a+)+$` takes exponential time and keeps only part of the text) is
        refused unless `allow_pattern=True`.
        """
        path = Path(model_file)
        if path.suffix != ".model":
            raise ValueError(f"{path}: expected a .model file (the .vocab file is for reading only)")
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such model file")
        size = path.stat().st_size
        if size > MAX_MODEL_BYTES:
            raise ValueError(f"{path} is {size:,} bytes, over the limit of {MAX_MODEL_BYTES:,} for a .model file")
        try:
            lines = path.read_bytes().decode("utf-8").split("\n")
        except UnicodeDecodeError as error:
            raise ValueError(f"{path} is not UTF-8 text ({error.reason} at byte {error.start})") from None
        if lines and lines[-1] == "":
            lines.pop()
        if len(lines) < 3 or lines[0] != MODEL_HEADER:
            raise ValueError(f"{path}: not a tokenizer model (first line must be {MODEL_HEADER!r})")
        pattern = lines[1]
        try:
            num_special = int(lines[2])
        except ValueError:
            raise ValueError(f"{path}: line 3 must be the number of special tokens, got {lines[2][:40]!r}") from None
        if num_special < 0 or len(lines) < 3 + num_special:
            raise ValueError(f"{path}: says {num_special} special tokens but the file is too short")
        special_lines = lines[3 : 3 + num_special]
        merge_lines = lines[3 + num_special :]
        merges: dict[tuple[int, int], int] = {}
        length = [1] * 256  # bytes per token, to bound the vocabulary before building it
        for offset, line in enumerate(merge_lines):
            idx = 256 + offset
            fields = line.split()
            try:
                left, right = (int(field) for field in fields)
            except ValueError:
                raise ValueError(
                    f"{path}: line {4 + num_special + offset}: expected two ids, got {line[:40]!r}"
                ) from None
            if not (0 <= left < idx and 0 <= right < idx):
                raise ValueError(
                    f"{path}: line {4 + num_special + offset}: merge {idx} refers to ids ({left}, {right}) "
                    f"that do not exist yet"
                )
            if (left, right) in merges:
                raise ValueError(f"{path}: line {4 + num_special + offset}: merge ({left}, {right}) is repeated")
            merges[left, right] = idx
            length.append(length[left] + length[right])
        total = sum(length)
        if total > MAX_VOCAB_BYTES:
            raise ValueError(
                f"{path}: its merges build tokens of {total:,} bytes in all, over the limit of {MAX_VOCAB_BYTES:,} "
                f"(a merge of a token with itself doubles its length): a corrupt or crafted file"
            )
        special: dict[str, int] = {}
        for offset, line in enumerate(special_lines):
            fields = line.split(" ")
            try:
                name, idx = fields[0], int(fields[1])
                if len(fields) != 2:
                    raise ValueError
            except (ValueError, IndexError):
                raise ValueError(f"{path}: line {4 + offset}: expected 'token id', got {line[:40]!r}") from None
            special[name] = idx
        self._set_pattern(pattern, allow_pattern=allow_pattern)  # validates (and compiles) before anything changes
        self.merges = merges
        self.special_tokens = {}
        self.inverse_special_tokens = {}
        self.register_special_tokens(special)  # validates ids against the merges
        return self

    def _set_pattern(self, pattern: str, allow_pattern: bool = True) -> None:
        """Hook: subclasses compile the pattern (the basic tokenizer requires it to be empty)."""
        if pattern:
            raise ValueError(f"{type(self).__name__} has no split pattern, but the model file has {pattern!r}")
        self.pattern = pattern
