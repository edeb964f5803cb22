"""The encoder-decoder Transformer (Vaswani et al. 2017, section 3), forward and backward.

    TransformerConfig    hyperparameters; CONFIGS holds `base` (the paper's) and small ones
    EncoderLayer         self-attention + feed-forward, each in a residual block (3.1)
    DecoderLayer         masked self-attention + encoder-decoder attention + feed-forward (3.1)
    Transformer          embeddings + positional encoding, N encoder and N decoder layers,
                         the shared output projection; `forward`/`backward` for training,
                         `encode`/`decode_step` (with a key/value cache) for inference

Residual blocks are post-LN as in the paper, LayerNorm(x + Dropout(Sublayer(x))) (3.1, 5.4),
or pre-LN, x + Dropout(Sublayer(LayerNorm(x))) with a final LayerNorm per stack (Xiong et al.
2020), chosen by `pre_ln`. Decoding algorithms (greedy, beam) live in `decode.py`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from .layers import (
    Embedding,
    FeedForward,
    LayerNorm,
    Module,
    MultiHeadAttention,
    dropout_backward,
    dropout_forward,
    positional_encoding,
)

PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3


@dataclass
class TransformerConfig:
    src_vocab_size: int
    tgt_vocab_size: int
    n_layers: int = 6  # N, for the encoder and for the decoder
    d_model: int = 512
    n_heads: int = 8
    d_ff: int = 2048
    dropout: float = 0.1  # P_drop (5.4): residual, embedding, attention weights, FFN hidden
    max_len: int = 256  # rows of the positional-encoding table
    pre_ln: bool = False
    share_embeddings: bool = True  # one matrix for source, target and output (3.4); needs one vocabulary
    dtype: str = "float32"

    def __post_init__(self):
        for name in ("src_vocab_size", "tgt_vocab_size", "n_layers", "d_model", "n_heads", "d_ff", "max_len"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.d_model % self.n_heads != 0:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})")
        if self.d_model % 2 != 0:
            raise ValueError(f"d_model must be even for the sinusoidal encoding, got {self.d_model}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.share_embeddings and self.src_vocab_size != self.tgt_vocab_size:
            raise ValueError("share_embeddings needs one shared vocabulary (src_vocab_size == tgt_vocab_size)")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TransformerConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


# Model shapes (vocabulary sizes are filled in by the task). `base` is the paper's Table 3 model.
CONFIGS = {
    "base": dict(n_layers=6, d_model=512, n_heads=8, d_ff=2048, dropout=0.1),
    "small": dict(n_layers=3, d_model=256, n_heads=4, d_ff=512, dropout=0.1),
    "tiny": dict(n_layers=2, d_model=64, n_heads=4, d_ff=128, dropout=0.0),
}


def count_parameters_formula(cfg: TransformerConfig) -> int:
    """Closed-form parameter count, to check the implementation against (and for `base`: ~65M).

    Per attention block 4 d^2 + 4 d (Q, K, V, O with biases); per FFN 2 d d_ff + d_ff + d;
    per LayerNorm 2 d. Encoder layer: 1 attention, 1 FFN, 2 LayerNorms; decoder layer: 2, 1, 3.
    """
    d, f = cfg.d_model, cfg.d_ff
    attention = 4 * d * d + 4 * d
    ffn = 2 * d * f + f + d
    norm = 2 * d
    encoder = cfg.n_layers * (attention + ffn + 2 * norm)
    decoder = cfg.n_layers * (2 * attention + ffn + 3 * norm)
    final_norms = 2 * norm if cfg.pre_ln else 0
    embeddings = cfg.src_vocab_size * d if cfg.share_embeddings else (cfg.src_vocab_size + cfg.tgt_vocab_size) * d
    return encoder + decoder + final_norms + embeddings


class _Residual:
    """Helpers for the residual block around a sublayer, post-LN or pre-LN."""

    @staticmethod
    def forward(pre_ln, norm, x, sublayer, p, rng):
        if pre_ln:  # x + Dropout(Sublayer(LayerNorm(x)))
            n, cn = norm.forward(x)
            s, cs = sublayer(n)
            s, m = dropout_forward(s, p, rng)
            return x + s, (cn, cs, m)
        s, cs = sublayer(x)  # LayerNorm(x + Dropout(Sublayer(x)))
        s, m = dropout_forward(s, p, rng)
        y, cn = norm.forward(x + s)
        return y, (cn, cs, m)

    @staticmethod
    def backward(pre_ln, norm, dy, cache, sublayer_backward):
        cn, cs, m = cache
        if pre_ln:
            return dy + norm.backward(sublayer_backward(dropout_backward(dy, m), cs), cn)
        dsum = norm.backward(dy, cn)
        return dsum + sublayer_backward(dropout_backward(dsum, m), cs)


class EncoderLayer(Module):
    def __init__(self, cfg: TransformerConfig, rng):
        super().__init__()
        dtype = np.dtype(cfg.dtype)
        self.pre_ln, self.p = cfg.pre_ln, cfg.dropout
        self.self_attn = MultiHeadAttention(cfg.d_model, cfg.n_heads, rng, dtype, cfg.dropout)
        self.ffn = FeedForward(cfg.d_model, cfg.d_ff, rng, dtype, cfg.dropout)
        self.norm1 = LayerNorm(cfg.d_model, dtype)
        self.norm2 = LayerNorm(cfg.d_model, dtype)

    def forward(self, x, src_mask, rng=None):
        """x (B, S, d), src_mask (B, 1, 1, S) -> (B, S, d)."""
        x, c1 = _Residual.forward(
            self.pre_ln, self.norm1, x, lambda h: self.self_attn.forward(h, h, src_mask, rng), self.p, rng
        )
        x, c2 = _Residual.forward(self.pre_ln, self.norm2, x, lambda h: self.ffn.forward(h, rng), self.p, rng)
        return x, (c1, c2)

    def backward(self, dout, cache):
        c1, c2 = cache
        dx = _Residual.backward(self.pre_ln, self.norm2, dout, c2, self.ffn.backward)
        return _Residual.backward(self.pre_ln, self.norm1, dx, c1, lambda d, c: sum(self.self_attn.backward(d, c)))


class DecoderLayer(Module):
    def __init__(self, cfg: TransformerConfig, rng):
        super().__init__()
        dtype = np.dtype(cfg.dtype)
        self.pre_ln, self.p = cfg.pre_ln, cfg.dropout
        self.self_attn = MultiHeadAttention(cfg.d_model, cfg.n_heads, rng, dtype, cfg.dropout)
        self.cross_attn = MultiHeadAttention(cfg.d_model, cfg.n_heads, rng, dtype, cfg.dropout)
        self.ffn = FeedForward(cfg.d_model, cfg.d_ff, rng, dtype, cfg.dropout)
        self.norm1 = LayerNorm(cfg.d_model, dtype)
        self.norm2 = LayerNorm(cfg.d_model, dtype)
        self.norm3 = LayerNorm(cfg.d_model, dtype)

    def forward(self, x, memory, src_mask, tgt_mask, rng=None):
        """x (B, T, d), memory (B, S, d), src_mask (B, 1, 1, S), tgt_mask (1, 1, T, T) -> (B, T, d)."""
        x, c1 = _Residual.forward(
            self.pre_ln, self.norm1, x, lambda h: self.self_attn.forward(h, h, tgt_mask, rng), self.p, rng
        )
        x, c2 = _Residual.forward(
            self.pre_ln, self.norm2, x, lambda h: self.cross_attn.forward(h, memory, src_mask, rng), self.p, rng
        )
        x, c3 = _Residual.forward(self.pre_ln, self.norm3, x, lambda h: self.ffn.forward(h, rng), self.p, rng)
        return x, (c1, c2, c3)

    def backward(self, dout, cache):
        """Returns (dx, dmemory)."""
        c1, c2, c3 = cache
        dmemory = []

        def cross_backward(d, c):
            dh, dm = self.cross_attn.backward(d, c)
            dmemory.append(dm)
            return dh

        dx = _Residual.backward(self.pre_ln, self.norm3, dout, c3, self.ffn.backward)
        dx = _Residual.backward(self.pre_ln, self.norm2, dx, c2, cross_backward)
        dx = _Residual.backward(self.pre_ln, self.norm1, dx, c1, lambda d, c: sum(self.self_attn.backward(d, c)))
        return dx, dmemory[0]

    def step(self, x, cache: dict, src_mask):
        """One new position x (B, 1, d) given the layer's cache; appends this position's keys/values.

        cache holds "k", "v" (B, h, t, dk) of the t earlier positions (self-attention) and
        "mem_k", "mem_v" (B, h, S, dk), the encoder output projected once per sentence.
        Causality is automatic: the new position may attend to every cached one.
        Returns (B, 1, d) and the cross-attention weights (B, h, 1, S).
        """
        h = self.norm1.forward(x)[0] if self.pre_ln else x
        k_new, v_new = self.self_attn.project_kv(h)  # (B, h, 1, dk)
        cache["k"] = k_new if cache.get("k") is None else np.concatenate([cache["k"], k_new], axis=2)
        cache["v"] = v_new if cache.get("v") is None else np.concatenate([cache["v"], v_new], axis=2)
        s, _ = self.self_attn.step(h, cache["k"], cache["v"])
        x = x + s if self.pre_ln else self.norm1.forward(x + s)[0]
        h = self.norm2.forward(x)[0] if self.pre_ln else x
        s, cross_weights = self.cross_attn.step(h, cache["mem_k"], cache["mem_v"], src_mask)
        x = x + s if self.pre_ln else self.norm2.forward(x + s)[0]
        h = self.norm3.forward(x)[0] if self.pre_ln else x
        s, _ = self.ffn.forward(h)
        x = x + s if self.pre_ln else self.norm3.forward(x + s)[0]
        return x, cross_weights


def causal_mask(T: int):
    """(1, 1, T, T), True on and below the diagonal: position i sees positions <= i (3.2.3)."""
    return np.tril(np.ones((T, T), dtype=bool))[None, None]


def padding_mask(ids, pad_id: int = PAD_ID):
    """(B, 1, 1, S), True at real tokens: no query attends to a padding key."""
    return (ids != pad_id)[:, None, None, :]


class Transformer(Module):
    def __init__(self, cfg: TransformerConfig, seed: int = 0):
        super().__init__()
        self.cfg = cfg
        rng = np.random.default_rng(seed)
        dtype = np.dtype(cfg.dtype)
        self.src_embed = Embedding(cfg.src_vocab_size, cfg.d_model, rng, dtype)
        # Section 3.4: the target embedding is also the pre-softmax projection; with one
        # shared vocabulary the source embedding is that same matrix too.
        self.tgt_embed = (
            self.src_embed if cfg.share_embeddings else Embedding(cfg.tgt_vocab_size, cfg.d_model, rng, dtype)
        )
        self.encoder_layers = [EncoderLayer(cfg, rng) for _ in range(cfg.n_layers)]
        self.decoder_layers = [DecoderLayer(cfg, rng) for _ in range(cfg.n_layers)]
        if cfg.pre_ln:
            self.encoder_norm = LayerNorm(cfg.d_model, dtype)
            self.decoder_norm = LayerNorm(cfg.d_model, dtype)
        self.pe = positional_encoding(cfg.max_len, cfg.d_model, dtype)

    # ----- input checks ---------------------------------------------------------------
    def _check_ids(self, ids, name: str, vocab_size: int):
        if not isinstance(ids, np.ndarray) or ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"{name} must be a 2-D integer array (batch, length), got {getattr(ids, 'shape', ids)}")
        if ids.shape[1] > self.cfg.max_len:
            raise ValueError(
                f"{name} has length {ids.shape[1]}, longer than the positional-encoding table "
                f"(max_len={self.cfg.max_len}); shorten the input or build the model with a larger max_len"
            )
        if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
            raise ValueError(f"{name} holds token ids outside [0, {vocab_size})")

    # ----- training forward/backward --------------------------------------------------
    def _embed(self, embedding, ids, rng, offset: int = 0):
        x, ce = embedding.forward(ids)  # (B, T, d)
        x = x + self.pe[offset : offset + ids.shape[1]]  # 3.5: summed with the embeddings
        x, m = dropout_forward(x, self.cfg.dropout, rng)  # 5.4: dropout on the sums
        return x, (ce, m)

    def encode(self, src, rng=None):
        """src (B, S) -> memory (B, S, d) and the cache for backward."""
        self._check_ids(src, "src", self.cfg.src_vocab_size)
        src_mask = padding_mask(src)
        x, ce = self._embed(self.src_embed, src, rng)
        caches = []
        for layer in self.encoder_layers:
            x, c = layer.forward(x, src_mask, rng)
            caches.append(c)
        cn = None
        if self.cfg.pre_ln:
            x, cn = self.encoder_norm.forward(x)
        return x, (ce, caches, cn)

    def encode_backward(self, dmemory, cache):
        ce, caches, cn = cache
        if self.cfg.pre_ln:
            dmemory = self.encoder_norm.backward(dmemory, cn)
        dx = dmemory
        for layer, c in zip(reversed(self.encoder_layers), reversed(caches)):
            dx = layer.backward(dx, c)
        emb_cache, m = ce
        self.src_embed.backward(dropout_backward(dx, m), emb_cache)

    def forward(self, src, tgt_in, rng=None):
        """Logits (B, T, V_tgt) for teacher-forced target inputs tgt_in (B, T) given src (B, S).

        rng: a Generator for dropout (training) or None (evaluation, no dropout).
        """
        self._check_ids(tgt_in, "tgt_in", self.cfg.tgt_vocab_size)
        if src.shape[0] != tgt_in.shape[0]:
            raise ValueError(f"src and tgt_in batch sizes differ: {src.shape[0]} vs {tgt_in.shape[0]}")
        memory, enc_cache = self.encode(src, rng)
        src_mask = padding_mask(src)
        tgt_mask = causal_mask(tgt_in.shape[1])
        x, de = self._embed(self.tgt_embed, tgt_in, rng)
        caches = []
        for layer in self.decoder_layers:
            x, c = layer.forward(x, memory, src_mask, tgt_mask, rng)
            caches.append(c)
        cn = None
        if self.cfg.pre_ln:
            x, cn = self.decoder_norm.forward(x)
        logits, cp = self.tgt_embed.project(x)  # (B, T, V)
        return logits, (enc_cache, de, caches, cn, cp)

    def backward(self, dlogits, cache):
        """Adds the gradients of every parameter for dlogits (B, T, V) into the modules' grads."""
        enc_cache, de, caches, cn, cp = cache
        dx = self.tgt_embed.project_backward(dlogits, cp)
        if self.cfg.pre_ln:
            dx = self.decoder_norm.backward(dx, cn)
        dmemory = 0.0
        for layer, c in zip(reversed(self.decoder_layers), reversed(caches)):
            dx, dm = layer.backward(dx, c)
            dmemory = dmemory + dm
        emb_cache, m = de
        self.tgt_embed.backward(dropout_backward(dx, m), emb_cache)
        self.encode_backward(dmemory, enc_cache)

    # ----- inference with a key/value cache ---------------------------------------------
    def start_decoding(self, memory):
        """Per decoder layer, the encoder output's keys/values, computed once (B, h, S, dk)."""
        caches = []
        for layer in self.decoder_layers:
            mem_k, mem_v = layer.cross_attn.project_kv(memory)
            caches.append({"k": None, "v": None, "mem_k": mem_k, "mem_v": mem_v})
        return caches

    def decode_step(self, token, position: int, caches, src_mask):
        """Log-probabilities (B, V) of the next token after `token` (B,) at `position`.

        Costs O(t) per step for t earlier positions: each layer projects only the new
        position and attends over the cached keys/values. Updates `caches` in place and
        returns (logp, cross-attention weights of the last layer (B, h, S)).
        """
        if position >= self.cfg.max_len:
            raise ValueError(f"decoding position {position} exceeds the positional table (max_len={self.cfg.max_len})")
        x, _ = self._embed(self.tgt_embed, token[:, None], None, offset=position)  # (B, 1, d)
        cross = None
        for layer, cache in zip(self.decoder_layers, caches):
            x, cross = layer.step(x, cache, src_mask)
        if self.cfg.pre_ln:
            x, _ = self.decoder_norm.forward(x)
        logits, _ = self.tgt_embed.project(x[:, 0])  # (B, V)
        shifted = logits - logits.max(axis=-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True)), cross[:, :, 0]

    def decode_full(self, prefix, memory, src_mask):
        """Uncached reference: log-probabilities (B, V) of the next token after the whole prefix (B, t)."""
        x, _ = self._embed(self.tgt_embed, prefix, None)
        tgt_mask = causal_mask(prefix.shape[1])
        for layer in self.decoder_layers:
            x, _ = layer.forward(x, memory, src_mask, tgt_mask)
        if self.cfg.pre_ln:
            x, _ = self.decoder_norm.forward(x)
        logits, _ = self.tgt_embed.project(x[:, -1])
        shifted = logits - logits.max(axis=-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))

    # ----- checkpoints ----------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        return self.named_parameters()

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        own = self.named_parameters()
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if missing or unexpected:
            raise ValueError(f"checkpoint does not match the model: missing {missing[:5]}, unexpected {unexpected[:5]}")
        for name, value in own.items():
            if state[name].shape != value.shape:
                raise ValueError(f"checkpoint {name} has shape {state[name].shape}, the model wants {value.shape}")
            value[...] = state[name]
