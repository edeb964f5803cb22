"""What every minbpe-style byte-level tokenizer shares: the vocabulary, decoding, special tokens, save/load.

A trained tokenizer is its ordered merges `{(left_id, right_id): new_id}` (ids 0..255 are the raw
bytes, merge `i` makes id `256 + i`), an optional split pattern, and optional special tokens
(`{"<|endoftext|>": 100257}`) whose ids lie above the merged ones.

Files (minbpe's format, so minbpe models load here and the other way round):
- `prefix.model`: `minbpe v1`, the pattern, the number of special tokens, one `token id` line per
  special token, then one `left right` line per merge. This is what `load` reads.
- `prefix.vocab`: for people only: every token rendered as text, with the two tokens it merges.

Encoding with special tokens is here too (`encode` cuts the text at the allowed special tokens, then
calls the subclass's `encode_ordinary` on the pieces in between).

Not done here: how text becomes ids between special tokens (`basic.py`, `regex_tokenizer.py`).
"""

from __future__ import annotations

import os
import unicodedata
import warnings
from pathlib import Path

import regex

from .training import train_incremental

__all__ = ["Tokenizer", "check_ids", "clean_surrogates", "render_token", "split_on_specials"]

MODEL_HEADER = "minbpe v1"


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


def check_ids(ids, vocab_size_or_table) -> None:
    """Raise ValueError naming the first id that is not an int in the vocabulary."""
    for position, idx in enumerate(ids):
        if isinstance(idx, bool) or idx not in vocab_size_or_table:
            raise ValueError(f"token id {idx!r} at position {position} is not in the vocabulary")


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
        vocab = {idx: bytes([idx]) for idx in range(256)}
        for (left, right), idx in self.merges.items():
            vocab[idx] = vocab[left] + vocab[right]
        for special, idx in self.special_tokens.items():
            vocab[idx] = special.encode("utf-8")
        return vocab

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
        """The bytes of a list of token ids (specials as their UTF-8 text)."""
        vocab = self.vocab
        try:
            return b"".join(vocab[idx] for idx in ids)
        except (KeyError, TypeError):
            check_ids(ids, vocab)
            raise

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

    def load(self, model_file: str | os.PathLike) -> Tokenizer:
        """Read a `.model` file written by `save` (or by minbpe). Raises ValueError if it is malformed."""
        path = Path(model_file)
        if path.suffix != ".model":
            raise ValueError(f"{path}: expected a .model file (the .vocab file is for reading only)")
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such model file")
        lines = path.read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if len(lines) < 3 or lines[0] != MODEL_HEADER:
            raise ValueError(f"{path}: not a tokenizer model (first line must be {MODEL_HEADER!r})")
        pattern = lines[1]
        try:
            num_special = int(lines[2])
        except ValueError:
            raise ValueError(f"{path}: line 3 must be the number of special tokens, got {lines[2]!r}") from None
        if num_special < 0 or len(lines) < 3 + num_special:
            raise ValueError(f"{path}: says {num_special} special tokens but the file is too short")
        special_lines = lines[3 : 3 + num_special]
        merge_lines = lines[3 + num_special :]
        merges: dict[tuple[int, int], int] = {}
        for offset, line in enumerate(merge_lines):
            idx = 256 + offset
            fields = line.split()
            try:
                left, right = (int(field) for field in fields)
            except ValueError:
                raise ValueError(f"{path}: line {4 + num_special + offset}: expected two ids, got {line!r}") from None
            if not (0 <= left < idx and 0 <= right < idx):
                raise ValueError(
                    f"{path}: line {4 + num_special + offset}: merge {idx} refers to ids ({left}, {right}) "
                    f"that do not exist yet"
                )
            if (left, right) in merges:
                raise ValueError(f"{path}: line {4 + num_special + offset}: merge ({left}, {right}) is repeated")
            merges[left, right] = idx
        special: dict[str, int] = {}
        for offset, line in enumerate(special_lines):
            fields = line.split(" ")
            try:
                name, idx = fields[0], int(fields[1])
                if len(fields) != 2:
                    raise ValueError
            except (ValueError, IndexError):
                raise ValueError(f"{path}: line {4 + offset}: expected 'token id', got {line!r}") from None
            special[name] = idx
        self._set_pattern(pattern)  # validates (and compiles) before anything is changed
        self.merges = merges
        self.special_tokens = {}
        self.inverse_special_tokens = {}
        self.register_special_tokens(special)  # validates ids against the merges
        return self

    def _set_pattern(self, pattern: str) -> None:
        """Hook: subclasses compile the pattern (the basic tokenizer requires it to be empty)."""
        if pattern:
            raise ValueError(f"{type(self).__name__} has no split pattern, but the model file has {pattern!r}")
        self.pattern = pattern
