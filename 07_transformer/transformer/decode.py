"""Greedy and beam-search decoding (section 6.1: beam 4, length penalty alpha = 0.6,
maximum output length = input length + 50), batched over sentences and beams.

Both use the decoder's key/value cache (`Transformer.decode_step`), so each new token costs
O(t) instead of re-running the decoder over the whole prefix; `greedy(..., use_cache=False)`
keeps the uncached version for the benchmark and the equality test.

Beam search keeps, per sentence, the `beam` best prefixes by summed log-probability; a
finished hypothesis (it emitted <eos>) stays in its slot with its score frozen. At the end the
hypothesis with the best length-normalized score s / lp(Y) wins, with Wu et al. (2016)'s
lp(Y) = ((5 + |Y|) / 6)^alpha and |Y| counting the <eos>.
"""

from __future__ import annotations

import numpy as np

from .model import BOS_ID, EOS_ID, PAD_ID, padding_mask


def _max_steps(model, src, extra: int) -> np.ndarray:
    """Per-sentence output limit: source length (without padding) + extra, capped by the positional table."""
    return np.minimum((src != PAD_ID).sum(axis=1) + extra, model.cfg.max_len)


def _strip(row) -> list[int]:
    out = []
    for token in row:
        if token in (EOS_ID, PAD_ID):
            break
        out.append(int(token))
    return out


def greedy(model, src: np.ndarray, max_extra: int = 50, use_cache: bool = True) -> list[list[int]]:
    """Most probable next token at every step; returns token ids per sentence without <eos>."""
    memory, _ = model.encode(src)
    src_mask = padding_mask(src)
    limit = _max_steps(model, src, max_extra)
    B = src.shape[0]
    caches = model.start_decoding(memory) if use_cache else None
    prefix = np.full((B, 1), BOS_ID, dtype=np.int64)
    finished = np.zeros(B, dtype=bool)
    for t in range(int(limit.max())):
        if use_cache:
            logp, _ = model.decode_step(prefix[:, -1], t, caches, src_mask)
        else:
            logp = model.decode_full(prefix, memory, src_mask)
        token = logp.argmax(axis=-1)
        token[finished] = PAD_ID
        prefix = np.concatenate([prefix, token[:, None]], axis=1)
        finished |= (token == EOS_ID) | (t + 1 >= limit)
        if finished.all():
            break
    return [_strip(row) for row in prefix[:, 1:]]


def length_penalty(length, alpha: float):
    """GNMT's lp(Y) = ((5 + |Y|) / 6)^alpha."""
    # exercise: length_penalty: GNMT's lp(Y) = ((5 + |Y|) / 6)^alpha (README 6.1)
    return ((5.0 + length) / 6.0) ** alpha
    # end exercise


def beam_search(model, src: np.ndarray, beam: int = 4, alpha: float = 0.6, max_extra: int = 50) -> list[list[int]]:
    """Beam search over all sentences of the batch at once (B * beam decoder rows)."""
    if beam < 1:
        raise ValueError(f"beam must be >= 1, got {beam}")
    B, K = src.shape[0], beam
    memory, _ = model.encode(src)
    memory = np.repeat(memory, K, axis=0)  # (B*K, S, d): row b*K + k is beam k of sentence b
    src_rep = np.repeat(src, K, axis=0)
    src_mask = padding_mask(src_rep)
    caches = model.start_decoding(memory)
    limit = _max_steps(model, src, max_extra)[:, None]  # (B, 1)

    scores = np.full((B, K), -np.inf)
    scores[:, 0] = 0.0  # all beams start identical: let only one of them expand at first
    finished = np.zeros((B, K), dtype=bool)
    lengths = np.zeros((B, K), dtype=np.int64)
    history = np.zeros((B, K, 0), dtype=np.int64)
    token = np.full(B * K, BOS_ID, dtype=np.int64)
    rows = np.arange(B)[:, None]
    for t in range(int(limit.max())):
        logp, _ = model.decode_step(token, t, caches, src_mask)
        V = logp.shape[-1]
        logp = logp.reshape(B, K, V).astype(np.float64)
        # A finished hypothesis may only be extended by <pad>, at no cost: its score is frozen.
        frozen = np.full(V, -np.inf)
        frozen[PAD_ID] = 0.0
        logp = np.where(finished[:, :, None], frozen, logp)
        # exercise: beam_search_step: extend each beam by each token, keep the K best per sentence (README 6.1)
        candidates = (scores[:, :, None] + logp).reshape(B, K * V)  # (B, K*V)
        top = np.argpartition(-candidates, K - 1, axis=1)[:, :K]  # (B, K), unordered
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(candidates, top, 1), axis=1), 1)
        origin, token2d = top // V, top % V  # which beam each survivor extends, and with what
        scores = np.take_along_axis(candidates, top, 1)
        was_finished = np.take_along_axis(finished, origin, 1)
        lengths = np.take_along_axis(lengths, origin, 1) + ~was_finished
        finished = was_finished | (token2d == EOS_ID) | (t + 1 >= limit)
        history = np.concatenate([history[rows, origin], token2d[:, :, None]], axis=2)
        # end exercise
        # Reorder the cached keys/values so row b*K + k holds the prefix of the new beam k.
        flat = (rows * K + origin).reshape(-1)
        for cache in caches:
            cache.k, cache.v = cache.k[flat], cache.v[flat]
        token = token2d.reshape(-1)
        if finished.all():
            break
    normalized = scores / length_penalty(lengths, alpha)
    best = normalized.argmax(axis=1)
    return [_strip(history[b, best[b]]) for b in range(B)]
