"""The simplest byte-level BPE tokenizer: the whole text is one sequence of bytes (no split pattern).

Training merges the most frequent pair of adjacent tokens anywhere in the text, so merges can
cross word boundaries and punctuation ("e t" from "the tree"). Encoding is `base.apply_merges`
(merge the lowest-ranked learned pair present, repeat), but the whole text is one sequence, so
each step of that loop would rescan all of it. `apply_merges_fast` gives the same ids (tied by
tests/test_basic.py): it applies the learned merges in the order they were learned, each one
vectorised over all positions with NumPy. That order gives the loop's result because a merge's
output can only take part in later merges.

Special tokens work as in every tokenizer here (`Tokenizer.encode` cuts the text at them first).
"""

from __future__ import annotations

import numpy as np

from .base import Tokenizer, clean_surrogates

__all__ = ["BasicTokenizer", "apply_merges_fast"]


def apply_merges_fast(ids: np.ndarray, merges: dict[tuple[int, int], int]) -> np.ndarray:
    """`base.apply_merges` for long sequences: merges in rank order, each vectorised over all positions."""
    ids = np.asarray(ids, dtype=np.int64)  # (N,)
    for (a, b), new_id in sorted(merges.items(), key=lambda item: item[1]):
        if ids.size < 2:
            break
        hits = np.flatnonzero((ids[:-1] == a) & (ids[1:] == b))  # (H,) start positions of the pair
        if hits.size == 0:
            continue
        if a == b and hits.size > 1:
            # a run "a a a a" has hits at consecutive positions; left to right merges the 1st, 3rd, ...
            run_starts = np.ones(hits.size, dtype=bool)
            run_starts[1:] = np.diff(hits) != 1
            first_of_run = hits[np.maximum.accumulate(np.where(run_starts, np.arange(hits.size), 0))]
            hits = hits[(hits - first_of_run) % 2 == 0]
        ids[hits] = new_id
        ids = np.delete(ids, hits + 1)
    return ids


class BasicTokenizer(Tokenizer):
    """Byte-level BPE on the raw byte stream (minbpe's BasicTokenizer)."""

    def train(self, text: str, vocab_size: int, verbose: bool = False, callback=None) -> None:
        """Learn `vocab_size - 256` merges from `text`.

        `callback(step, pair, new_id, count, live_tokens)`, if given, is called after every merge.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        data = clean_surrogates(text).encode("utf-8")
        self._fit({data: 1} if data else {}, vocab_size, verbose, callback)

    def encode_ordinary(self, text: str) -> list[int]:
        """Text -> token ids (special-token strings are ordinary text; `encode` handles them)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        ids = np.frombuffer(clean_surrogates(text).encode("utf-8"), dtype=np.uint8)
        return apply_merges_fast(ids, self.merges).tolist()
