"""Learning byte-level BPE merges: a fast incremental trainer and the slow recount trainer it must match.

Both take the training text already cut into chunks (pre-tokens) and deduplicated with counts,
`{chunk_bytes: count}`: a chunk that occurs 500 times is stored once with weight 500, and pairs
never cross chunk boundaries. Both return the merges in order as pairs of token ids; merge `i`
creates the token `256 + i`.

Tie-breaking rule (both trainers): merge the pair with the highest count; among pairs with equal
counts, the smallest pair `(left, right)` of ids in lexicographic order. Merges inside a chunk are
applied left to right without overlaps (`a a a` with pair `(a, a)` becomes `aa a`).

- `train_recount`: the textbook loop (minbpe's `train`): each step counts every pair in every chunk
  (`base.get_stats`), takes the best, and rewrites every chunk with `base.merge`. Cost per merge: the
  size of the whole corpus.
- `train_incremental`: the same merges, but only the pairs touched by a merge are updated. The
  chunks are stored as one array of positions with doubly-linked `prev`/`next` links; an index maps
  each pair to the positions where it starts; a heap (with lazy deletion of stale entries) finds
  the best pair. Merging `(a, b)` at a position only changes the pairs with its left and right
  neighbours, so the cost per merge is proportional to the occurrences of the merged pair.

Not done here: choosing chunks (that is the tokenizer's regex) and special tokens.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping

from .base import get_stats, merge

__all__ = ["count_chunks", "train_incremental", "train_recount"]

Pair = tuple[int, int]
# called after every merge: (merge_index, pair, new_id, count, live_tokens)
MergeCallback = Callable[[int, Pair, int, int, int], None]


def count_chunks(chunks: Iterable[bytes]) -> Counter:
    """Deduplicate chunks: {chunk_bytes: number of occurrences}."""
    return Counter(chunks)


def _check(chunk_counts: Mapping[bytes, int], num_merges: int) -> None:
    if isinstance(num_merges, bool) or not isinstance(num_merges, int) or num_merges < 0:
        raise ValueError(f"num_merges must be a non-negative int, got {num_merges!r}")
    for chunk, count in chunk_counts.items():
        if not isinstance(chunk, (bytes, bytearray)):
            raise TypeError(f"chunks must be bytes, got {type(chunk).__name__}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"chunk counts must be positive ints, got {count!r} for {chunk!r}")


# --------------------------------------------------------------------------- the slow, obvious trainer


def train_recount(
    chunk_counts: Mapping[bytes, int], num_merges: int, callback: MergeCallback | None = None
) -> list[Pair]:
    """Recount every pair of every chunk at every step (minbpe's `train`). Reference for `train_incremental`."""
    _check(chunk_counts, num_merges)
    chunks = [list(chunk) for chunk in chunk_counts]
    weights = list(chunk_counts.values())
    merges: list[Pair] = []
    # exercise: train_recount: count all pairs, merge the best (ties: smallest) as 256 + step (README: Training fast)
    for step in range(num_merges):
        counts: dict[Pair, int] = {}
        for ids, weight in zip(chunks, weights):
            get_stats(ids, counts, weight)
        if not counts:
            break  # every chunk is a single token: nothing left to merge
        best = min(counts, key=lambda p: (-counts[p], p))  # highest count, then smallest pair
        new_id = 256 + step
        chunks = [merge(ids, best, new_id) for ids in chunks]
        merges.append(best)
        if callback is not None:
            callback(step, best, new_id, counts[best], sum(len(ids) * w for ids, w in zip(chunks, weights)))
    # end exercise
    return merges


# --------------------------------------------------------------------------- the fast trainer


def train_incremental(
    chunk_counts: Mapping[bytes, int],
    num_merges: int,
    callback: MergeCallback | None = None,
    positions_trace: list[int] | None = None,
) -> list[Pair]:
    """Same merges as `train_recount`, updating only the pairs next to each merged occurrence.

    `positions_trace`, if given, receives the number of tokens left in the deduplicated chunks
    after each merge (what one recount step has to scan; the benchmark uses it).
    """
    _check(chunk_counts, num_merges)
    # All chunks laid end to end: token, weight (the chunk's count) and links per position.
    token: list[int] = []
    weight: list[int] = []
    prev: list[int] = []
    next_: list[int] = []
    for chunk, count in chunk_counts.items():
        start = len(token)
        n = len(chunk)
        token.extend(chunk)
        weight.extend([count] * n)
        prev.extend([-1, *range(start, start + n - 1)][:n])
        next_.extend([*range(start + 1, start + n), -1][:n])
    live = sum(len(chunk) * count for chunk, count in chunk_counts.items())  # tokens in the corpus
    positions = len(token)  # tokens in the deduplicated chunks

    counts: dict[Pair, int] = defaultdict(int)
    where: dict[Pair, set[int]] = defaultdict(set)  # pair -> positions where it starts
    for i, j in enumerate(next_):
        if j != -1:
            pair = (token[i], token[j])
            counts[pair] += weight[i]
            where[pair].add(i)
    heap = [(-count, pair) for pair, count in counts.items()]
    heapq.heapify(heap)

    changed: set[Pair] = set()  # pairs whose count changed during the current merge

    def add(pair: Pair, position: int, amount: int) -> None:
        counts[pair] += amount
        changed.add(pair)
        if amount > 0:
            where[pair].add(position)
        elif pair in where:
            where[pair].discard(position)

    merges: list[Pair] = []
    for step in range(num_merges):
        best = None
        while heap:
            negative, pair = heapq.heappop(heap)
            if counts.get(pair, 0) == -negative:  # else a stale entry: the count has changed since
                best = pair
                break
        if best is None:
            break  # no pair left anywhere
        best_count = counts.pop(best)
        a, b = best
        new_id = 256 + step
        changed.clear()
        for i in sorted(where.pop(best)):  # left to right, so overlapping pairs merge like `merge`
            j = next_[i]
            if token[i] != a or j == -1 or token[j] != b:
                continue  # consumed by the previous merge in an overlapping run (a a a)
            w = weight[i]
            p = prev[i]
            if p != -1:  # (x, a) becomes (x, ab)
                add((token[p], a), p, -w)
                add((token[p], new_id), p, w)
            k = next_[j]
            if k != -1:  # (b, y) becomes (ab, y)
                add((b, token[k]), j, -w)
                add((new_id, token[k]), i, w)
            token[i], token[j] = new_id, -1  # position j is unlinked
            next_[i] = k
            if k != -1:
                prev[k] = i
            live -= w
            positions -= 1
        changed.discard(best)
        counts.pop(best, None)  # an overlapping run may have decremented it again
        for pair in changed:
            count = counts[pair]
            if count > 0:
                heapq.heappush(heap, (-count, pair))
            else:
                del counts[pair]
                where.pop(pair, None)
        merges.append(best)
        if positions_trace is not None:
            positions_trace.append(positions)
        if callback is not None:
            callback(step, best, new_id, best_count, live)
    return merges
