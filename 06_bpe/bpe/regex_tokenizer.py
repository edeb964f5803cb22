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

from collections import Counter

import regex

from .base import Tokenizer, apply_merges, clean_surrogates

__all__ = [
    "GPT2_SPLIT_PATTERN",
    "GPT4_SPLIT_PATTERN",
    "KNOWN_PATTERNS",
    "PATTERNS",
    "RegexTokenizer",
    "SplitPattern",
]

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
# minbpe's spellings of the same two patterns (models saved by minbpe carry these)
MINBPE_GPT2_SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
MINBPE_GPT4_SPLIT_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|"""
    r"""\s+(?!\S)|\s+"""
)
KNOWN_PATTERNS = frozenset(
    {GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN, MINBPE_GPT2_SPLIT_PATTERN, MINBPE_GPT4_SPLIT_PATTERN}
)

# Code points that the `regex` package's Unicode tables call letters (\p{L}) or numbers (\p{N}) and
# tiktoken 0.14's older tables do not (it treats them as punctuation): 17,480 of them, assigned in
# recent Unicode versions. Measured by encoding chr(c) + "'s" with tiktoken for every code point: a
# letter or number leaves "'s" as its own token, anything else takes the apostrophe. With them the
# ids would depend on the installed `regex` version; without them they are tiktoken's.
NEWER_THAN_TIKTOKEN = (
    (0x0558, 0x0558),
    (0x058B, 0x058C),
    (0x088F, 0x088F),
    (0x0C5C, 0x0C5C),
    (0x0CDC, 0x0CDC),
    (0x208F, 0x208F),
    (0x209D, 0x209F),
    (0xA7CE, 0xA7CF),
    (0xA7D2, 0xA7D2),
    (0xA7D4, 0xA7D4),
    (0xA7DD, 0xA7DD),
    (0xA7E2, 0xA7E2),
    (0xA7F1, 0xA7F1),
    (0xAB6C, 0xAB6D),
    (0x107BB, 0x107BF),
    (0x10940, 0x10959),
    (0x10EC5, 0x10EC7),
    (0x10ED9, 0x10EEE),
    (0x11B0A, 0x11B0A),
    (0x11DB0, 0x11DDB),
    (0x11DE0, 0x11DE9),
    (0x11DF1, 0x11DF1),
    (0x1246F, 0x1246F),
    (0x12475, 0x1247F),
    (0x12550, 0x12686),
    (0x16EA0, 0x16EB8),
    (0x16EBB, 0x16ED3),
    (0x16FF2, 0x16FF6),
    (0x187F8, 0x187FF),
    (0x18CD6, 0x18CDA),
    (0x18D09, 0x18D20),
    (0x18D80, 0x18DF2),
    (0x18E00, 0x19191),
    (0x191A0, 0x191D2),
    (0x1B123, 0x1B128),
    (0x1B168, 0x1B168),
    (0x1D6A6, 0x1D6A6),
    (0x1DF1F, 0x1DF24),
    (0x1DF2B, 0x1DF81),
    (0x1DF90, 0x1DF96),
    (0x1DFCD, 0x1DFFF),
    (0x1E6C0, 0x1E6DE),
    (0x1E6E0, 0x1E6E2),
    (0x1E6E4, 0x1E6E5),
    (0x1E6E7, 0x1E6ED),
    (0x1E6F0, 0x1E6F4),
    (0x1E6FE, 0x1E6FF),
    (0x2B73A, 0x2B73F),
    (0x2B81E, 0x2B81E),
    (0x2CEA2, 0x2CEAD),
    (0x323B0, 0x33479),
    (0x3D000, 0x3FC3F),
)
_NEWER_CHARS = frozenset(chr(c) for low, high in NEWER_THAN_TIKTOKEN for c in range(low, high + 1))
CUSTOM_PATTERN_SECONDS = 5.0  # plus 10 us per character: a custom pattern's time limit on one text


def _char_class(ranges) -> str:
    def escape(c: int) -> str:
        return f"\\U{c:08x}" if c > 0xFFFF else f"\\u{c:04x}"

    return "".join(escape(low) if low == high else f"{escape(low)}-{escape(high)}" for low, high in ranges)


def restrict_to_tiktoken_unicode(pattern: str) -> str:
    """`pattern` with its \\p{L} and \\p{N} blind to NEWER_THAN_TIKTOKEN (which then count as punctuation).

    `\\p{L}` becomes `(?:(?![newer])\\p{L})`, and a negated class such as `[^\\s\\p{L}\\p{N}]` becomes
    `(?:[newer]|[^\\s\\p{L}\\p{N}])`. Written for the known patterns; a positive class holding
    \\p{L} or \\p{N} is refused (it does not occur in them).
    """
    newer = _char_class(NEWER_THAN_TIKTOKEN)

    def rewrite(match) -> str:
        text = match.group()
        if text.startswith("[^"):
            return f"(?:[{newer}]|{text})" if ("\\p{L}" in text or "\\p{N}" in text) else text
        if text.startswith("["):
            if "\\p{L}" in text or "\\p{N}" in text:
                raise ValueError(f"cannot restrict the character class {text} of {pattern!r}")
            return text
        return f"(?:(?![{newer}]){text})"

    return regex.sub(r"\[(?:[^\]\\]|\\.)*\]|\\p\{[LN]\}", rewrite, pattern)


class SplitPattern:
    """A compiled split pattern: `findall(text)` cuts text into chunks, with tiktoken's Unicode tables.

    For the known patterns the chunks are tiktoken's whatever `regex` version is installed: a text
    holding none of the NEWER_THAN_TIKTOKEN characters (nearly all text; checked at C speed, at once for ASCII) is cut
    by the pattern as written; otherwise by its restricted form (about 3x slower). A custom pattern
    (`allow_custom=True`) runs as written with `regex`'s own tables, under a time limit, and must not
    lose text: capturing groups are refused (findall would return the groups, not the chunks) and the
    chunks must cover every character.
    """

    def __init__(self, pattern: str, allow_custom: bool = True):
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"pattern must be a non-empty regex string (or 'gpt2'/'gpt4'), got {pattern!r}")
        self.pattern = pattern
        self.custom = pattern not in KNOWN_PATTERNS
        if self.custom and not allow_custom:
            raise ValueError(
                f"split pattern {pattern[:80]!r} is not one of the known GPT-2/GPT-4 patterns; a pattern is code "
                f"(it can take exponential time or drop text), so it is refused unless allowed (--allow-pattern)"
            )
        try:
            self.compiled = regex.compile(pattern)
        except (regex.error, OverflowError, RecursionError) as error:
            raise ValueError(f"pattern {pattern[:80]!r} is not a valid regex: {error}") from None
        if self.compiled.groups:
            raise ValueError(
                f"pattern {pattern[:80]!r} has capturing groups, so findall would return the groups and drop the "
                f"rest of each chunk; write (?:...) instead"
            )
        self.restricted = None if self.custom else regex.compile(restrict_to_tiktoken_unicode(pattern))

    def findall(self, text: str) -> list[str]:
        """The chunks of `text`, in order; together they are exactly `text`."""
        if not self.custom:
            if self.restricted is not None and not text.isascii() and not _NEWER_CHARS.isdisjoint(text):
                return self.restricted.findall(text)
            return self.compiled.findall(text)
        limit = CUSTOM_PATTERN_SECONDS + 1e-5 * len(text)
        try:
            chunks = self.compiled.findall(text, timeout=limit)
        except TimeoutError:
            raise ValueError(
                f"the split pattern {self.pattern[:80]!r} took more than {limit:.0f} s on a text of {len(text):,} "
                f"characters (catastrophic backtracking?)"
            ) from None
        covered = sum(map(len, chunks))
        if covered != len(text):
            raise ValueError(
                f"the split pattern {self.pattern[:80]!r} leaves {len(text) - covered:,} of {len(text):,} characters "
                f"outside every chunk; they would be lost (a split pattern must match all of the text)"
            )
        return chunks


class RegexTokenizer(Tokenizer):
    """Byte-level BPE on regex chunks; `pattern` defaults to GPT-4's (`PATTERNS["gpt2"]` is GPT-2's).

    A pattern given here is yours and may be any regex without capturing groups that matches all of
    the text; `load` accepts only the known patterns from a file unless `allow_pattern=True`.
    """

    def __init__(self, pattern: str | None = None):
        super().__init__()
        self._set_pattern(GPT4_SPLIT_PATTERN if pattern is None else pattern)
        self.cache: dict[str, tuple[int, ...]] = {}

    def _set_pattern(self, pattern: str, allow_pattern: bool = True) -> None:
        if pattern in PATTERNS:
            pattern = PATTERNS[pattern]
        self.compiled_pattern = SplitPattern(pattern, allow_custom=allow_pattern)
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
        """One chunk's ids: `base.apply_merges` on its bytes (chunks are short, and each is cached)."""
        return tuple(apply_merges(chunk, self.merges))

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
