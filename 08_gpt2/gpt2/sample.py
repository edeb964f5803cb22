"""Autoregressive generation: temperature, top-k and nucleus (top-p) sampling over a KV cache.

`generate` yields one new token per prompt per step. With the cache (default) the prompts are
run once ("prefill") and each later step feeds only the newest token, attending to the cached
keys and values: O(T) work per token instead of recomputing the whole prefix (O(T^2) per token
for attention, O(T) for everything else). Prompts of different lengths are left-padded and
masked, each keeping its own positions, so a batch gives the same tokens as one prompt at a time.

Sampling (Holtzman et al. 2020 for top-p): logits / temperature, keep the k largest, keep the
smallest set of tokens whose probability reaches p, renormalise, draw. temperature 0 is greedy.
Generation stops when the longest sequence fills the context (n_positions tokens), unless
`sliding_window` is set: then only the last n_positions tokens are kept and recomputed (nanoGPT's
crop to block_size), which costs a full forward of the window per token from there on.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

from .device import to_numpy
from .kv_cache import KVCache
from .model import GPT

__all__ = ["generate", "sample_next"]


def sample_next(
    logits: np.ndarray,
    rng: np.random.Generator,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> np.ndarray:
    """Draw one token id per row of logits (B, V); temperature 0 picks the argmax.

    NaN in the settings or the logits is an error (a NaN row would otherwise always draw token 0).
    A temperature so small that logits / temperature overflows is the greedy limit: the argmax.
    """
    if not temperature >= 0 or not math.isfinite(temperature):
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    logits = np.asarray(logits, dtype=np.float64)  # (B, V)
    if not np.isfinite(logits).all():
        raise ValueError("the model produced NaN or infinite logits: its weights or inputs are not finite")
    if temperature == 0:
        return logits.argmax(axis=-1)
    with np.errstate(over="ignore"):
        scaled = logits / temperature
    if not np.isfinite(scaled).all():
        return logits.argmax(axis=-1)  # temperature -> 0: every draw is the argmax
    logits = scaled
    B, V = logits.shape
    if top_k is not None and top_k < V:
        kth = np.partition(logits, V - top_k, axis=-1)[:, V - top_k : V - top_k + 1]  # (B, 1): k-th largest
        logits = np.where(logits < kth, -np.inf, logits)
    probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)  # (B, V)
    if top_p is not None and top_p < 1.0:
        order = np.argsort(-probs, axis=-1, kind="stable")  # (B, V), most likely first
        sorted_probs = np.take_along_axis(probs, order, axis=-1)
        before = np.cumsum(sorted_probs, axis=-1) - sorted_probs  # mass of the strictly more likely tokens
        drop = np.zeros_like(probs, dtype=bool)
        np.put_along_axis(drop, order, before >= top_p, axis=-1)  # the top token always survives
        probs = np.where(drop, 0.0, probs)
        probs /= probs.sum(axis=-1, keepdims=True)
    cdf = np.cumsum(probs, axis=-1)  # (B, V)
    u = rng.random((B, 1)) * cdf[:, -1:]
    return np.minimum((cdf <= u).sum(axis=-1), V - 1)


def _left_pad(rows: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(r) for r in rows)
    idx = np.zeros((len(rows), width), dtype=np.int64)
    valid = np.zeros((len(rows), width), dtype=bool)
    for b, row in enumerate(rows):
        if len(row):
            idx[b, width - len(row) :] = row
            valid[b, width - len(row) :] = True
    return idx, valid


def generate(
    model: GPT,
    prompts: Sequence[Sequence[int]],
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    rng: np.random.Generator | None = None,
    use_cache: bool = True,
    sliding_window: bool = False,
) -> Iterator[np.ndarray]:
    """Yield the next token of every prompt, (B,) int64, up to max_new_tokens times.

    Stops early (without error) when the longest sequence reaches n_positions tokens, unless sliding_window.
    `use_cache=False` recomputes the whole sequence for every token (for comparison and benchmarks).
    """
    n_positions = model.config.n_positions
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    if not prompts or any(len(p) == 0 for p in prompts):
        raise ValueError("every prompt needs at least one token")
    longest = max(len(p) for p in prompts)
    if longest > n_positions and not sliding_window:
        raise ValueError(f"a prompt has {longest} tokens, more than the model's context n_positions={n_positions}")
    rng = np.random.default_rng() if rng is None else rng
    was_training = model.training
    model.eval()
    try:
        sequences = [list(map(int, p)) for p in prompts]
        cache, last = None, None
        for _ in range(max_new_tokens):
            longest = max(len(s) for s in sequences)
            if longest >= n_positions and not sliding_window:
                return  # the context is full: the caller reports it
            if use_cache and cache is not None and longest < n_positions:
                logits = model.forward_cached(last[:, None], cache)  # only the newest token: O(T)
            else:  # prefill (first step, no cache, or a slid window): run every token of the window
                idx, valid = _left_pad([s[-n_positions:] for s in sequences])
                capacity = n_positions if use_cache else idx.shape[1]
                cache = KVCache(model.config, len(sequences), capacity=capacity, xp=model.xp)
                logits = model.forward_cached(idx, cache, valid=valid)  # (B, V) at the last position
            last = sample_next(to_numpy(logits), rng, temperature, top_k, top_p)  # (B,), drawn on the host
            for seq, token in zip(sequences, last):
                seq.append(int(token))
            yield last
    finally:
        model.train(was_training)
