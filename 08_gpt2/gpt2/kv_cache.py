"""The KV cache for decoding: keys and values of every layer kept, so token t costs O(t), not O(t^2).

Generating token t+1 needs the keys and values of tokens 1..t in every layer; with causal
attention they never change once computed. `KVCache` preallocates them, and `attention_cached`
runs only the new tokens' queries against the cache (appending their own keys and values).
Left padding of shorter prompts in a batch is masked with `valid`; each row keeps its own positions.
Not here: the block around the attention (model.py, `GPT.forward_cached`).
"""

from __future__ import annotations

import math

import numpy as np

from .device import xp_of
from .layers import softmax_lastaxis_

__all__ = ["KVCache", "attention_cached"]


class KVCache:
    """Keys and values of every layer for the tokens seen so far, so decoding step t costs O(t).

    k, v: (n_layer, B, n_head, capacity, head_size). `valid` marks real (not left-padding)
    tokens; `next_pos` is each row's next position index (pads take no position).
    """

    def __init__(self, config, batch_size: int, capacity: int | None = None, dtype=np.float32, xp=np):
        capacity = config.n_positions if capacity is None else capacity
        if not 0 < capacity <= config.n_positions:
            raise ValueError(f"KV cache capacity must be in [1, n_positions={config.n_positions}], got {capacity}")
        hs = config.n_embd // config.n_head
        shape = (config.n_layer, batch_size, config.n_head, capacity, hs)
        self.k = xp.zeros(shape, dtype=dtype)  # on the model's device
        self.v = xp.zeros(shape, dtype=dtype)
        self.valid = np.zeros((batch_size, capacity), dtype=bool)
        self.next_pos = np.zeros(batch_size, dtype=np.int64)
        self.length = 0
        self.capacity = capacity
        self.n_positions = config.n_positions

    def place(self, shape: tuple[int, int], valid=None) -> tuple[np.ndarray, np.ndarray]:
        """Check that Tn new tokens of B rows fit; mark them valid (or padding); return (positions, valid)."""
        B, Tn = shape
        if B != self.k.shape[1]:
            raise ValueError(f"batch size {B} does not match the KV cache's {self.k.shape[1]}")
        if Tn == 0:
            raise ValueError("forward_cached needs at least one new token")
        if self.length + Tn > self.capacity:
            raise ValueError(
                f"{self.length} cached + {Tn} new tokens exceed the context of {self.capacity} "
                f"(n_positions={self.n_positions})"
            )
        valid = np.ones((B, Tn), dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
        if valid.shape != (B, Tn):
            raise ValueError(f"valid mask shape {valid.shape} must equal idx shape {(B, Tn)}")
        positions = self.next_pos[:, None] + np.cumsum(valid, axis=1) - valid  # (B, Tn): pads take no slot
        self.valid[:, self.length : self.length + Tn] = valid
        return np.minimum(positions, self.n_positions - 1), valid

    def advance(self, valid: np.ndarray) -> None:
        """After every layer has appended the new tokens' keys and values."""
        self.length += valid.shape[1]
        self.next_pos += valid.sum(axis=1)


def attention_cached(qkv: np.ndarray, n_head: int, cache: KVCache, layer: int):
    """Attention of new tokens over the cached past plus themselves; appends their k, v to the cache.

    Returns (y, None): the (B, Tn, C) output, and no cache (decoding has no backward)."""
    B, Tn, C3 = qkv.shape
    C = C3 // 3
    hs = C // n_head
    q, k, v = (qkv[..., i * C : (i + 1) * C].reshape(B, Tn, n_head, hs).transpose(0, 2, 1, 3) for i in range(3))
    # exercise: cached_attention: append k, v to the cache, attend over it (README: KV cache, sampling)
    start, end = cache.length, cache.length + Tn
    cache.k[layer, :, :, start:end] = k
    cache.v[layer, :, :, start:end] = v
    keys = cache.k[layer, :, :, :end]  # (B, nh, end, hs)
    values = cache.v[layer, :, :, :end]
    att = q @ keys.transpose(0, 1, 3, 2)  # (B, nh, Tn, end)
    att *= 1.0 / math.sqrt(hs)
    visible = xp_of(att).asarray(_visible(cache, Tn)[:, None])  # the mask is built on the host
    att = np.where(visible, att, -np.inf)  # (B, nh, Tn, end)
    softmax_lastaxis_(att)
    y = att @ values  # (B, nh, Tn, hs)
    # end exercise
    return y.transpose(0, 2, 1, 3).reshape(B, Tn, C), None


def _visible(cache: KVCache, Tn: int) -> np.ndarray:
    """(B, Tn, end) bool: key j is visible to new query i if j is in its past and not padding.

    A padding query may always see itself, so that its (unused) row never becomes all -inf / NaN.
    """
    start, end = cache.length, cache.length + Tn
    query_at = np.arange(start, end)[:, None]  # (Tn, 1)
    key_at = np.arange(end)[None, :]  # (1, end)
    causal = key_at <= query_at  # (Tn, end)
    return (causal & cache.valid[:, None, :end]) | (key_at == query_at)  # (B, Tn, end)
