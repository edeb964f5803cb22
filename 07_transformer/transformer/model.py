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
from typing import NamedTuple

import numpy as np

from .layers import (
    Embedding,
    FeedForward,
    FeedForwardSaved,
    LayerNorm,
    Module,
    MultiHeadAttention,
    MultiHeadAttentionSaved,
    dropout_backward,
    dropout_forward,
    log_softmax,
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
    "mini": dict(n_layers=2, d_model=128, n_heads=4, d_ff=512, dropout=0.1),  # the quick preset's: minutes on a CPU
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


# ----- residual blocks (3.1, 5.4) --------------------------------------------------------
# post-LN (the paper):  y = LayerNorm(x + Dropout(Sublayer(x)))
# pre-LN (Xiong 2020):  y = x + Dropout(Sublayer(LayerNorm(x)))
# A block is written in two halves around its sublayer, so that every layer below calls its
# sublayers' forward and backward explicitly (no functions passed around):
#     h, pre = sublayer_input(x, norm, pre_ln)            # what the sublayer reads
#     s, saved = sublayer.forward(h, ...)
#     y, res = residual_forward(x, s, pre, norm, p, rng, pre_ln)
# and backward, in reverse:
#     dskip, ds = residual_backward(dy, res, norm, pre_ln)
#     dh = sublayer.backward(ds, saved)
#     dx = residual_input_backward(dskip, dh, res, norm, pre_ln)


class ResidualSaved(NamedTuple):
    norm: tuple | None  # the LayerNorm's saved activations (None: post-LN inference never needs them)
    dropout_mask: np.ndarray | None


def sublayer_input(x, norm: LayerNorm, pre_ln: bool):
    """What the sublayer reads: LayerNorm(x) in pre-LN; x itself in post-LN (normalized after the sum)."""
    if pre_ln:
        return norm.forward(x)
    return x, None


def residual_forward(x, s, pre_norm, norm: LayerNorm, p: float, rng, pre_ln: bool):
    """Close the block around the sublayer's output s: x + Dropout(s), then LayerNorm in post-LN."""
    s, dropout_mask = dropout_forward(s, p, rng)
    if pre_ln:
        return x + s, ResidualSaved(pre_norm, dropout_mask)
    y, post_norm = norm.forward(x + s)
    return y, ResidualSaved(post_norm, dropout_mask)


def residual_backward(dy, saved: ResidualSaved, norm: LayerNorm, pre_ln: bool):
    """Backward to the sublayer: (gradient along the skip connection, gradient at the sublayer output)."""
    if pre_ln:  # y = x + D(s)
        return dy, dropout_backward(dy, saved.dropout_mask)
    dsum = norm.backward(dy, saved.norm)  # y = LN(x + D(s)): both paths start from dLN
    return dsum, dropout_backward(dsum, saved.dropout_mask)


def residual_input_backward(dskip, dh, saved: ResidualSaved, norm: LayerNorm, pre_ln: bool):
    """dx of the block: the skip path plus the sublayer input's gradient dh (through LayerNorm in pre-LN)."""
    if pre_ln:
        return dskip + norm.backward(dh, saved.norm)
    return dskip + dh


class EncoderLayerSaved(NamedTuple):
    self_attn: MultiHeadAttentionSaved
    self_attn_block: ResidualSaved
    ffn: FeedForwardSaved
    ffn_block: ResidualSaved


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
        h, pre = sublayer_input(x, self.norm1, self.pre_ln)
        s, self_attn = self.self_attn.forward(h, h, src_mask, rng)
        x, self_attn_block = residual_forward(x, s, pre, self.norm1, self.p, rng, self.pre_ln)
        h, pre = sublayer_input(x, self.norm2, self.pre_ln)
        s, ffn = self.ffn.forward(h, rng)
        x, ffn_block = residual_forward(x, s, pre, self.norm2, self.p, rng, self.pre_ln)
        return x, EncoderLayerSaved(self_attn, self_attn_block, ffn, ffn_block)

    def backward(self, dout, saved: EncoderLayerSaved):
        dskip, ds = residual_backward(dout, saved.ffn_block, self.norm2, self.pre_ln)
        dh = self.ffn.backward(ds, saved.ffn)
        dx = residual_input_backward(dskip, dh, saved.ffn_block, self.norm2, self.pre_ln)
        dskip, ds = residual_backward(dx, saved.self_attn_block, self.norm1, self.pre_ln)
        dh_queries, dh_keys_values = self.self_attn.backward(ds, saved.self_attn)  # h was both
        return residual_input_backward(
            dskip, dh_queries + dh_keys_values, saved.self_attn_block, self.norm1, self.pre_ln
        )


@dataclass
class DecoderCache:
    """One decoder layer's keys and values while decoding one token at a time (B, h, t, dk).

    `k`, `v`: self-attention keys/values of the t positions decoded so far (grown by `extend`);
    `memory_k`, `memory_v`: the encoder output projected once per sentence (B, h, S, dk).
    """

    memory_k: np.ndarray
    memory_v: np.ndarray
    k: np.ndarray | None = None
    v: np.ndarray | None = None

    def extend(self, k_new, v_new):
        """Append the new position's keys/values; returns all of them (k, v)."""
        self.k = k_new if self.k is None else np.concatenate([self.k, k_new], axis=2)
        self.v = v_new if self.v is None else np.concatenate([self.v, v_new], axis=2)
        return self.k, self.v


class DecoderLayerSaved(NamedTuple):
    self_attn: MultiHeadAttentionSaved
    self_attn_block: ResidualSaved
    cross_attn: MultiHeadAttentionSaved
    cross_attn_block: ResidualSaved
    ffn: FeedForwardSaved
    ffn_block: ResidualSaved


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

    def forward(self, x, memory, src_mask, tgt_mask, rng=None, cache: DecoderCache | None = None):
        """x (B, T, d), memory (B, S, d), src_mask (B, 1, 1, S), tgt_mask (1, 1, T, T) -> (B, T, d).

        The one definition of the decoder layer's wiring, for training and for decoding. With a
        `cache`, x is the newest position only (B, 1, d): self-attention reads the cached keys
        and values of every earlier position (so tgt_mask is None: the new position may see
        them all) and encoder-decoder attention reads the cached projection of memory.
        """
        h, pre = sublayer_input(x, self.norm1, self.pre_ln)
        self_kv = None if cache is None else cache.extend(*self.self_attn.project_kv(h))
        s, self_attn = self.self_attn.forward(h, h, tgt_mask, rng, kv=self_kv)
        x, self_attn_block = residual_forward(x, s, pre, self.norm1, self.p, rng, self.pre_ln)
        h, pre = sublayer_input(x, self.norm2, self.pre_ln)
        memory_kv = None if cache is None else (cache.memory_k, cache.memory_v)
        s, cross_attn = self.cross_attn.forward(h, memory, src_mask, rng, kv=memory_kv)
        x, cross_attn_block = residual_forward(x, s, pre, self.norm2, self.p, rng, self.pre_ln)
        h, pre = sublayer_input(x, self.norm3, self.pre_ln)
        s, ffn = self.ffn.forward(h, rng)
        x, ffn_block = residual_forward(x, s, pre, self.norm3, self.p, rng, self.pre_ln)
        return x, DecoderLayerSaved(self_attn, self_attn_block, cross_attn, cross_attn_block, ffn, ffn_block)

    def backward(self, dout, saved: DecoderLayerSaved):
        """Returns (dx, dmemory)."""
        dskip, ds = residual_backward(dout, saved.ffn_block, self.norm3, self.pre_ln)
        dh = self.ffn.backward(ds, saved.ffn)
        dx = residual_input_backward(dskip, dh, saved.ffn_block, self.norm3, self.pre_ln)
        dskip, ds = residual_backward(dx, saved.cross_attn_block, self.norm2, self.pre_ln)
        dh, dmemory = self.cross_attn.backward(ds, saved.cross_attn)
        dx = residual_input_backward(dskip, dh, saved.cross_attn_block, self.norm2, self.pre_ln)
        dskip, ds = residual_backward(dx, saved.self_attn_block, self.norm1, self.pre_ln)
        dh_queries, dh_keys_values = self.self_attn.backward(ds, saved.self_attn)  # h was both
        dx = residual_input_backward(dskip, dh_queries + dh_keys_values, saved.self_attn_block, self.norm1, self.pre_ln)
        return dx, dmemory


class EmbeddingSaved(NamedTuple):
    ids: np.ndarray  # (B, T), the embedding's saved input
    dropout_mask: np.ndarray | None


class EncoderSaved(NamedTuple):
    embedding: EmbeddingSaved
    layers: list[EncoderLayerSaved]
    final_norm: tuple | None  # pre-LN only


class TransformerSaved(NamedTuple):
    encoder: EncoderSaved
    decoder_embedding: EmbeddingSaved
    decoder_layers: list[DecoderLayerSaved]
    decoder_final_norm: tuple | None  # pre-LN only
    decoder_output: np.ndarray  # (B, T, d), the output projection's input


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
        x, _ = embedding.forward(ids)  # (B, T, d)
        x = x + self.pe[offset : offset + ids.shape[1]]  # 3.5: summed with the embeddings
        x, dropout_mask = dropout_forward(x, self.cfg.dropout, rng)  # 5.4: dropout on the sums
        return x, EmbeddingSaved(ids, dropout_mask)

    def encode(self, src, rng=None):
        """src (B, S) -> memory (B, S, d) and the `EncoderSaved` activations for backward."""
        self._check_ids(src, "src", self.cfg.src_vocab_size)
        src_mask = padding_mask(src)
        x, embedding = self._embed(self.src_embed, src, rng)
        layers = []
        for layer in self.encoder_layers:
            x, saved = layer.forward(x, src_mask, rng)
            layers.append(saved)
        final_norm = None
        if self.cfg.pre_ln:
            x, final_norm = self.encoder_norm.forward(x)
        return x, EncoderSaved(embedding, layers, final_norm)

    def encode_backward(self, dmemory, saved: EncoderSaved):
        if self.cfg.pre_ln:
            dmemory = self.encoder_norm.backward(dmemory, saved.final_norm)
        dx = dmemory
        for layer, layer_saved in zip(reversed(self.encoder_layers), reversed(saved.layers)):
            dx = layer.backward(dx, layer_saved)
        self.src_embed.backward(dropout_backward(dx, saved.embedding.dropout_mask), saved.embedding.ids)

    def forward(self, src, tgt_in, rng=None):
        """Logits (B, T, V_tgt) for teacher-forced target inputs tgt_in (B, T) given src (B, S).

        rng: a Generator for dropout (training) or None (evaluation, no dropout).
        """
        self._check_ids(tgt_in, "tgt_in", self.cfg.tgt_vocab_size)
        if src.shape[0] != tgt_in.shape[0]:
            raise ValueError(f"src and tgt_in batch sizes differ: {src.shape[0]} vs {tgt_in.shape[0]}")
        memory, encoder = self.encode(src, rng)
        src_mask = padding_mask(src)
        tgt_mask = causal_mask(tgt_in.shape[1])
        x, embedding = self._embed(self.tgt_embed, tgt_in, rng)
        layers = []
        for layer in self.decoder_layers:
            x, saved = layer.forward(x, memory, src_mask, tgt_mask, rng)
            layers.append(saved)
        final_norm = None
        if self.cfg.pre_ln:
            x, final_norm = self.decoder_norm.forward(x)
        logits, _ = self.tgt_embed.project(x)  # (B, T, V)
        return logits, TransformerSaved(encoder, embedding, layers, final_norm, x)

    def backward(self, dlogits, saved: TransformerSaved):
        """Adds the gradients of every parameter for dlogits (B, T, V) into the modules' grads."""
        dx = self.tgt_embed.project_backward(dlogits, saved.decoder_output)
        if self.cfg.pre_ln:
            dx = self.decoder_norm.backward(dx, saved.decoder_final_norm)
        dmemory = 0.0  # memory feeds every decoder layer's encoder-decoder attention: the gradients add up
        for layer, layer_saved in zip(reversed(self.decoder_layers), reversed(saved.decoder_layers)):
            dx, dmemory_layer = layer.backward(dx, layer_saved)
            dmemory = dmemory + dmemory_layer
        self.tgt_embed.backward(dropout_backward(dx, saved.decoder_embedding.dropout_mask), saved.decoder_embedding.ids)
        self.encode_backward(dmemory, saved.encoder)

    # ----- inference with a key/value cache ---------------------------------------------
    def start_decoding(self, memory) -> list[DecoderCache]:
        """Per decoder layer, the encoder output's keys/values, computed once (B, h, S, dk)."""
        return [DecoderCache(*layer.cross_attn.project_kv(memory)) for layer in self.decoder_layers]

    def decode_step(self, token, position: int, caches: list[DecoderCache], src_mask):
        """Log-probabilities (B, V) of the next token after `token` (B,) at `position`.

        Costs O(t) per step for t earlier positions: each layer projects only the new
        position and attends over the cached keys/values. Updates `caches` in place and
        returns (logp, cross-attention weights of the last layer (B, h, S)).
        """
        if position >= self.cfg.max_len:
            raise ValueError(f"decoding position {position} exceeds the positional table (max_len={self.cfg.max_len})")
        x, _ = self._embed(self.tgt_embed, token[:, None], None, offset=position)  # (B, 1, d)
        saved = None
        for layer, cache in zip(self.decoder_layers, caches):
            x, saved = layer.forward(x, None, src_mask, None, cache=cache)
        if self.cfg.pre_ln:
            x, _ = self.decoder_norm.forward(x)
        logits, _ = self.tgt_embed.project(x[:, 0])  # (B, V)
        return log_softmax(logits), saved.cross_attn.attention.weights[:, :, 0]

    def decode_full(self, prefix, memory, src_mask):
        """Uncached reference: log-probabilities (B, V) of the next token after the whole prefix (B, t)."""
        x, _ = self._embed(self.tgt_embed, prefix, None)
        tgt_mask = causal_mask(prefix.shape[1])
        for layer in self.decoder_layers:
            x, _ = layer.forward(x, memory, src_mask, tgt_mask)
        if self.cfg.pre_ln:
            x, _ = self.decoder_norm.forward(x)
        logits, _ = self.tgt_embed.project(x[:, -1])
        return log_softmax(logits)

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
