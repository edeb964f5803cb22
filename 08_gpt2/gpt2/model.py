"""GPT-2 (Radford et al. 2019) in NumPy, with an explicit forward and backward for every layer.

The model is the one OpenAI released: token + learned position embeddings, `n_layer` pre-LN
blocks (LayerNorm -> causal self-attention -> residual, LayerNorm -> 4x MLP with tanh-GELU ->
residual), a final LayerNorm, and an LM head tied to the token embedding.

Layout follows llm.c: each layer is a pair of plain functions, `*_forward(...) -> (out, cache)`
and `*_backward(dout, cache) -> grads`, and `GPT.backward()` chains them in reverse. Weights are
stored under Hugging Face's `GPT2LMHeadModel` names and shapes (its Conv1D keeps weights as
(in, out), which is also `x @ W` here), so released checkpoints load without transposes.

Also here: a KV cache for decoding (`GPT.forward_cached`) and `from_pretrained` /
`save_pretrained` for the Hugging Face folder format (`config.json` + `model.safetensors`).
Not here: the optimizer (optim.py), sampling (sample.py), the tokenizer (tokenizer.py).
Every layer works in the dtype of its inputs: float32 for real use, float64 for gradchecks.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = [
    "GPT",
    "PRESETS",
    "CheckpointError",
    "GPTConfig",
    "KVCache",
    "Parameter",
    "attention_backward",
    "attention_forward",
    "crossentropy_backward",
    "crossentropy_forward",
    "dropout_forward",
    "encoder_backward",
    "encoder_forward",
    "gelu_backward",
    "gelu_forward",
    "layernorm_backward",
    "layernorm_forward",
    "linear_backward",
    "linear_forward",
]


class CheckpointError(ValueError):
    """A checkpoint folder, config or weight file that does not describe a valid GPT-2."""


# --------------------------------------------------------------------------- configuration


@dataclass
class GPTConfig:
    """Hyperparameters, under Hugging Face's GPT2Config field names."""

    vocab_size: int = 50257
    n_positions: int = 1024  # longest sequence (the learned position table's size)
    n_embd: int = 768
    n_layer: int = 12
    n_head: int = 12
    layer_norm_epsilon: float = 1e-5
    dropout: float = 0.0  # one rate for embeddings, attention weights and residuals (HF's *_pdrop)

    def __post_init__(self) -> None:
        for name in ("vocab_size", "n_positions", "n_embd", "n_layer", "n_head"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"GPTConfig.{name} must be a positive integer, got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        for name in ("layer_norm_epsilon", "dropout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"GPTConfig.{name} must be a finite number, got {value!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if not self.layer_norm_epsilon > 0:
            raise ValueError(f"layer_norm_epsilon must be positive, got {self.layer_norm_epsilon}")

    @classmethod
    def preset(cls, name: str, **overrides) -> GPTConfig:
        """One of the four released sizes: 'gpt2' (124M), 'gpt2-medium', 'gpt2-large', 'gpt2-xl'."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
        return cls(**{**PRESETS[name], **overrides})

    def to_hf_dict(self) -> dict:
        """config.json content as transformers writes it (gpt2/hf.py)."""
        from .hf import config_to_hf

        return config_to_hf(self)

    @classmethod
    def from_hf_dict(cls, raw: dict) -> GPTConfig:
        """Read a Hugging Face config.json dict, checking every field (gpt2/hf.py)."""
        from .hf import config_from_hf

        return config_from_hf(raw)


PRESETS = {
    "gpt2": dict(n_layer=12, n_head=12, n_embd=768),  # 124M
    "gpt2-medium": dict(n_layer=24, n_head=16, n_embd=1024),  # 350M
    "gpt2-large": dict(n_layer=36, n_head=20, n_embd=1280),  # 774M
    "gpt2-xl": dict(n_layer=48, n_head=25, n_embd=1600),  # 1558M
}


class Parameter:
    """A weight array and its gradient (same shape; None until the first backward)."""

    def __init__(self, data: np.ndarray):
        self.data = data
        self.grad: np.ndarray | None = None

    def accumulate(self, grad: np.ndarray) -> None:
        """Add `grad` to `.grad` (gradients accumulate across backward calls, as in PyTorch)."""
        if self.grad is None:
            self.grad = np.zeros_like(self.data)
        self.grad += grad

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


# --------------------------------------------------------------------------- layers
# Each forward returns (output, cache); each backward takes the upstream gradient and that cache.


def encoder_forward(wte: np.ndarray, wpe: np.ndarray, idx: np.ndarray, positions: np.ndarray | None = None):
    """Token + learned position embedding (Radford et al. 2018, eq. 2): h0 = U We + Wp."""
    T = idx.shape[1]
    pos = np.arange(T) if positions is None else positions
    x = wte[idx] + wpe[pos]  # (B, T, C)
    return x, (idx, pos)


def encoder_backward(dx: np.ndarray, cache, dwte: np.ndarray, dwpe: np.ndarray) -> None:
    """Scatter-add dx into the rows of the embedding tables that the forward gathered."""
    idx, pos = cache
    C = dx.shape[-1]
    if pos.ndim == 1:
        dwpe[pos] += dx.sum(axis=0)  # (T, C): each position appears once per batch row
    else:
        np.add.at(dwpe, pos.reshape(-1), dx.reshape(-1, C))
    np.add.at(dwte, idx.reshape(-1), dx.reshape(-1, C))  # a token may repeat: add, do not assign


def layernorm_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float):
    """y = (x - mean) / sqrt(var + eps) * w + b over the last axis (Ba et al. 2016)."""
    mean = x.mean(axis=-1, keepdims=True)  # (B, T, 1)
    xhat = x - mean  # (B, T, C), centred; normalised in place below
    var = (xhat * xhat).mean(axis=-1, keepdims=True)  # (B, T, 1), biased as in the paper
    rstd = 1.0 / np.sqrt(var + eps)  # (B, T, 1)
    xhat *= rstd
    y = xhat * w
    y += b
    return y, (xhat, rstd, w)


def layernorm_backward(dout: np.ndarray, cache):
    """dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), with dxhat = dout * w."""
    xhat, rstd, w = cache
    C = dout.shape[-1]
    dw = np.einsum("ij,ij->j", dout.reshape(-1, C), xhat.reshape(-1, C))  # (C,)
    db = dout.reshape(-1, C).sum(axis=0)  # (C,)
    dxhat = dout * w  # (B, T, C)
    dx = dxhat - dxhat.mean(axis=-1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)
    dx *= rstd
    return dx, dw, db


def linear_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None):
    """y = x @ w + b with w stored (in, out), as GPT-2's Conv1D."""
    lead = x.shape[:-1]
    y = x.reshape(-1, x.shape[-1]) @ w  # (B*T, out): one 2-D GEMM, not a batched loop
    if b is not None:
        y += b
    return y.reshape(*lead, w.shape[1]), (x, w)


def linear_backward(dout: np.ndarray, cache):
    """dx = dout @ w.T, dw = x.T @ dout, db = sum of dout over rows."""
    x, w = cache
    dout2 = dout.reshape(-1, dout.shape[-1])  # (B*T, out)
    x2 = x.reshape(-1, x.shape[-1])  # (B*T, in)
    dx = (dout2 @ w.T).reshape(x.shape)  # (B, T, in)
    dw = x2.T @ dout2  # (in, out)
    db = dout2.sum(axis=0)  # (out,)
    return dx, dw, db


_GELU_C = math.sqrt(2.0 / math.pi)


def gelu_forward(x: np.ndarray):
    """GELU, tanh approximation (Hendrycks & Gimpel 2016, sec. 2), as in GPT-2's released code."""
    t = x * x
    t *= x
    t *= 0.044715
    t += x
    t *= _GELU_C
    np.tanh(t, out=t)  # t = tanh(c (x + 0.044715 x^3)), kept for the backward
    y = t + 1.0
    y *= x
    y *= 0.5
    return y, (x, t)


def gelu_backward(dout: np.ndarray, cache) -> np.ndarray:
    """d/dx [0.5 x (1 + t)] = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 * 0.044715 x^2)."""
    x, t = cache
    local = x * x
    local *= 3 * 0.044715
    local += 1.0
    local *= x
    local *= 0.5 * _GELU_C  # 0.5 x c (1 + 3 * 0.044715 x^2)
    sech2 = t * t
    np.subtract(1.0, sech2, out=sech2)  # 1 - t^2 = sech^2
    local *= sech2
    sech2 = np.multiply(t, 0.5, out=sech2)
    local += sech2
    local += 0.5
    local *= dout
    return local


def dropout_forward(x: np.ndarray, p: float, rng: np.random.Generator | None):
    """Inverted dropout (Srivastava et al. 2014): zero with probability p, scale the rest by 1/(1-p)."""
    if p == 0.0 or rng is None:
        return x, None
    mask = (rng.random(x.shape, dtype=np.float32) >= p).astype(x.dtype) * (1.0 / (1.0 - p))
    return x * mask, mask


def dropout_backward(dout: np.ndarray, mask) -> np.ndarray:
    return dout if mask is None else dout * mask


@lru_cache(maxsize=32)
def _causal_bias(T: int, dtype: np.dtype) -> np.ndarray:
    """(T, T) additive mask: 0 on and below the diagonal, -inf above (a token sees only its past)."""
    bias = np.triu(np.full((T, T), -np.inf, dtype=dtype), k=1)
    bias.setflags(write=False)
    return bias


def softmax_lastaxis_(att: np.ndarray) -> np.ndarray:
    """Numerically stable softmax over the last axis, in place."""
    att -= att.max(axis=-1, keepdims=True)
    np.exp(att, out=att)
    att /= att.sum(axis=-1, keepdims=True)
    return att


def attention_forward(qkv: np.ndarray, n_head: int, dropout: float = 0.0, rng: np.random.Generator | None = None):
    """Causal multi-head self-attention (Vaswani et al. 2017, eq. 1) on fused q|k|v of shape (B, T, 3C).

    Returns the heads' outputs concatenated, (B, T, C), before the output projection.
    """
    B, T, C3 = qkv.shape
    C = C3 // 3
    hs = C // n_head
    q, k, v = (qkv[..., i * C : (i + 1) * C].reshape(B, T, n_head, hs).transpose(0, 2, 1, 3) for i in range(3))
    scale = 1.0 / math.sqrt(hs)
    q = q * scale  # (B, nh, T, hs): scaling q is cheaper than scaling the (T, T) scores
    att = q @ k.transpose(0, 1, 3, 2)  # (B, nh, T, T) = q k^T / sqrt(hs)
    att += _causal_bias(T, att.dtype)
    softmax_lastaxis_(att)  # (B, nh, T, T), rows sum to 1 over the visible past
    att_drop, mask = dropout_forward(att, dropout, rng)
    y = att_drop @ v  # (B, nh, T, hs)
    y = y.transpose(0, 2, 1, 3).reshape(B, T, C)  # (B, T, C): heads side by side
    return y, (q, k, v, att, att_drop, mask, scale)


def attention_backward(dy: np.ndarray, cache) -> np.ndarray:
    """Backward of attention: through y = A v, the softmax's Jacobian, and S = (q * scale) k^T."""
    q, k, v, att, att_drop, mask, scale = cache  # q is already multiplied by scale
    B, nh, T, hs = q.shape
    dy = dy.reshape(B, T, nh, hs).transpose(0, 2, 1, 3)  # (B, nh, T, hs)
    datt = dy @ v.transpose(0, 1, 3, 2)  # (B, nh, T, T)
    dv = att_drop.transpose(0, 1, 3, 2) @ dy  # (B, nh, T, hs)
    datt = dropout_backward(datt, mask)
    # softmax: dS = A * (dA - sum(dA * A)); masked entries have A = 0, so their gradient is 0.
    dpre = datt
    dpre -= np.einsum("bhij,bhij->bhi", datt, att)[..., None]
    dpre *= att
    dq = dpre @ k  # (B, nh, T, hs)
    dq *= scale
    dk = dpre.transpose(0, 1, 3, 2) @ q  # (B, nh, T, hs)
    dqkv = np.empty((B, T, 3, nh, hs), dtype=dy.dtype)
    dqkv[:, :, 0] = dq.transpose(0, 2, 1, 3)
    dqkv[:, :, 1] = dk.transpose(0, 2, 1, 3)
    dqkv[:, :, 2] = dv.transpose(0, 2, 1, 3)
    return dqkv.reshape(B, T, 3 * nh * hs)  # (B, T, 3C)


def crossentropy_forward(logits: np.ndarray, targets: np.ndarray):
    """Mean of -log softmax(logits)[target] over the targets that are not -1 (ignored)."""
    V = logits.shape[-1]
    flat = logits.reshape(-1, V)  # (N, V)
    t = targets.reshape(-1)
    keep = np.flatnonzero(t != -1)  # rows that count
    if keep.size == 0:
        raise ValueError("every target is -1 (ignored): the loss is undefined")
    probs = flat - flat.max(axis=-1, keepdims=True)
    np.exp(probs, out=probs)
    total = probs.sum(axis=-1, keepdims=True)  # (N, 1)
    probs /= total
    picked = probs[keep, t[keep]].astype(np.float64)
    loss = float(-np.log(np.maximum(picked, np.finfo(np.float64).tiny)).mean())
    return loss, (probs, t, keep, logits.shape)


def crossentropy_backward(cache, dloss: float = 1.0) -> np.ndarray:
    """dlogits = (softmax - onehot(target)) / n_kept on kept rows, 0 on ignored ones."""
    probs, t, keep, shape = cache
    dlogits = probs  # reuse the buffer: the cache is consumed
    dlogits[keep, t[keep]] -= 1.0
    if keep.size != len(t):
        ignored = np.ones(len(t), dtype=bool)
        ignored[keep] = False
        dlogits[ignored] = 0.0
    dlogits *= dloss / keep.size
    return dlogits.reshape(shape)


# --------------------------------------------------------------------------- KV cache


class KVCache:
    """Keys and values of every layer for the tokens seen so far, so decoding step t costs O(t).

    k, v: (n_layer, B, n_head, capacity, head_size). `valid` marks real (not left-padding)
    tokens; `next_pos` is each row's next position index (pads take no position).
    """

    def __init__(self, config: GPTConfig, batch_size: int, capacity: int | None = None, dtype=np.float32):
        capacity = config.n_positions if capacity is None else capacity
        if not 0 < capacity <= config.n_positions:
            raise ValueError(f"KV cache capacity must be in [1, n_positions={config.n_positions}], got {capacity}")
        hs = config.n_embd // config.n_head
        shape = (config.n_layer, batch_size, config.n_head, capacity, hs)
        self.k = np.zeros(shape, dtype=dtype)
        self.v = np.zeros(shape, dtype=dtype)
        self.valid = np.zeros((batch_size, capacity), dtype=bool)
        self.next_pos = np.zeros(batch_size, dtype=np.int64)
        self.length = 0
        self.capacity = capacity


def attention_cached(qkv: np.ndarray, n_head: int, cache: KVCache, layer: int) -> np.ndarray:
    """Attention of new tokens over the cached past plus themselves; appends their k, v to the cache."""
    B, Tn, C3 = qkv.shape
    C = C3 // 3
    hs = C // n_head
    q, k, v = (qkv[..., i * C : (i + 1) * C].reshape(B, Tn, n_head, hs).transpose(0, 2, 1, 3) for i in range(3))
    start, end = cache.length, cache.length + Tn
    cache.k[layer, :, :, start:end] = k
    cache.v[layer, :, :, start:end] = v
    keys = cache.k[layer, :, :, :end]  # (B, nh, end, hs)
    values = cache.v[layer, :, :, :end]
    att = q @ keys.transpose(0, 1, 3, 2)  # (B, nh, Tn, end)
    att *= 1.0 / math.sqrt(hs)
    att = np.where(_visible(cache, Tn)[:, None], att, -np.inf)  # (B, nh, Tn, end)
    softmax_lastaxis_(att)
    y = att @ values  # (B, nh, Tn, hs)
    return y.transpose(0, 2, 1, 3).reshape(B, Tn, C)


def _visible(cache: KVCache, Tn: int) -> np.ndarray:
    """(B, Tn, end) bool: key j is visible to new query i if j is in its past and not padding.

    A padding query may always see itself, so that its (unused) row never becomes all -inf / NaN.
    """
    start, end = cache.length, cache.length + Tn
    query_at = np.arange(start, end)[:, None]  # (Tn, 1)
    key_at = np.arange(end)[None, :]  # (1, end)
    causal = key_at <= query_at  # (Tn, end)
    return (causal & cache.valid[:, None, :end]) | (key_at == query_at)  # (B, Tn, end)


# --------------------------------------------------------------------------- the model


def _block_names(l: int) -> dict[str, str]:
    p = f"transformer.h.{l}."
    return {
        "ln_1.w": p + "ln_1.weight", "ln_1.b": p + "ln_1.bias",
        "attn.w": p + "attn.c_attn.weight", "attn.b": p + "attn.c_attn.bias",
        "proj.w": p + "attn.c_proj.weight", "proj.b": p + "attn.c_proj.bias",
        "ln_2.w": p + "ln_2.weight", "ln_2.b": p + "ln_2.bias",
        "fc.w": p + "mlp.c_fc.weight", "fc.b": p + "mlp.c_fc.bias",
        "mlp_proj.w": p + "mlp.c_proj.weight", "mlp_proj.b": p + "mlp.c_proj.bias",
    }  # fmt: skip


class GPT:
    """GPT-2: `logits, loss = model(idx, targets)`, then `model.backward()` fills every `.grad`."""

    def __init__(
        self, config: GPTConfig, seed: int | np.random.Generator | None = 0, dtype=np.float32, init: bool = True
    ):
        self.config = config
        self.dtype = np.dtype(dtype)
        self.training = True
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.params = self._init_params(rng, init)
        self.dropout_rng = np.random.default_rng(rng.integers(2**63))  # dropout masks, after the init draws
        self._cache = None  # activations of the last forward with targets, for backward

    # ----------------------------------------------------------------- parameters

    def _init_params(self, rng: np.random.Generator, init: bool = True) -> dict[str, Parameter]:
        """GPT-2's init: N(0, 0.02) weights, zero biases, unit LayerNorm gains; the two projections
        that write into the residual stream get std 0.02 / sqrt(2 * n_layer) (Radford et al. 2019,
        sec. 2.3), so the stream's variance does not grow with depth."""
        cfg, dt = self.config, self.dtype
        C, V = cfg.n_embd, cfg.vocab_size
        residual_std = 0.02 / math.sqrt(2 * cfg.n_layer)

        def normal(shape, std=0.02):
            if not init:  # from_pretrained overwrites every weight: skip drawing 124M+ numbers
                return np.zeros(shape, dt)
            return (rng.standard_normal(shape, dtype=np.float32) * std).astype(dt)

        params = {"transformer.wte.weight": normal((V, C)), "transformer.wpe.weight": normal((cfg.n_positions, C))}
        for l in range(cfg.n_layer):
            n = _block_names(l)
            params[n["ln_1.w"]], params[n["ln_1.b"]] = np.ones(C, dt), np.zeros(C, dt)
            params[n["attn.w"]], params[n["attn.b"]] = normal((C, 3 * C)), np.zeros(3 * C, dt)
            params[n["proj.w"]], params[n["proj.b"]] = normal((C, C), residual_std), np.zeros(C, dt)
            params[n["ln_2.w"]], params[n["ln_2.b"]] = np.ones(C, dt), np.zeros(C, dt)
            params[n["fc.w"]], params[n["fc.b"]] = normal((C, 4 * C)), np.zeros(4 * C, dt)
            params[n["mlp_proj.w"]], params[n["mlp_proj.b"]] = normal((4 * C, C), residual_std), np.zeros(C, dt)
        params["transformer.ln_f.weight"], params["transformer.ln_f.bias"] = np.ones(C, dt), np.zeros(C, dt)
        return {name: Parameter(array) for name, array in params.items()}

    def named_parameters(self) -> dict[str, Parameter]:
        """Hugging Face GPT2LMHeadModel names -> Parameters (the LM head is `transformer.wte.weight`)."""
        return self.params

    def parameters(self) -> list[Parameter]:
        return list(self.params.values())

    def num_parameters(self, non_embedding: bool = False) -> int:
        n = sum(p.data.size for p in self.params.values())
        return n - self.params["transformer.wpe.weight"].data.size if non_embedding else n

    def zero_grad(self) -> None:
        for p in self.params.values():
            if p.grad is not None:
                p.grad.fill(0.0)

    def train(self, mode: bool = True) -> GPT:
        self.training = mode
        return self

    def eval(self) -> GPT:
        return self.train(False)

    def _p(self, name: str) -> np.ndarray:
        return self.params[name].data

    # ----------------------------------------------------------------- forward / backward

    def _check_idx(self, idx, what: str = "idx", allow_ignore: bool = False) -> np.ndarray:
        idx = np.asarray(idx)
        if idx.ndim != 2:
            raise ValueError(f"{what} must be a 2-D integer array (batch, time), got shape {idx.shape}")
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"{what} must hold integer token ids, got dtype {idx.dtype}")
        low = -1 if allow_ignore else 0
        if idx.size and (idx.min() < low or idx.max() >= self.config.vocab_size):
            raise ValueError(
                f"{what} holds ids outside [{low}, {self.config.vocab_size}) "
                f"(min {idx.min()}, max {idx.max()}): not in this model's vocabulary"
            )
        return idx.astype(np.int64, copy=False)

    def __call__(self, idx, targets=None):
        return self.forward(idx, targets)

    def forward(self, idx, targets=None):
        """idx (B, T) token ids -> logits (B, T, V); with targets (B, T) also the mean cross-entropy.

        A forward with targets keeps the activations that `backward()` needs.
        """
        cfg = self.config
        idx = self._check_idx(idx)
        B, T = idx.shape
        if T == 0 or T > cfg.n_positions:
            raise ValueError(f"sequence length {T} must be in [1, n_positions={cfg.n_positions}]")
        if B == 0:
            raise ValueError("idx has no rows: the batch must hold at least one sequence")
        if targets is not None:
            targets = self._check_idx(targets, "targets", allow_ignore=True)
            if targets.shape != idx.shape:
                raise ValueError(f"targets shape {targets.shape} must equal idx shape {idx.shape}")
        p = self._p
        drop = cfg.dropout if self.training else 0.0
        rng = self.dropout_rng if drop > 0 else None
        keep = targets is not None  # store activations only when a backward can follow

        x, enc_cache = encoder_forward(p("transformer.wte.weight"), p("transformer.wpe.weight"), idx)  # (B, T, C)
        x, enc_mask = dropout_forward(x, drop, rng)
        blocks = []
        for l in range(cfg.n_layer):
            n = _block_names(l)
            h, c_ln1 = layernorm_forward(x, p(n["ln_1.w"]), p(n["ln_1.b"]), cfg.layer_norm_epsilon)
            qkv, c_attn = linear_forward(h, p(n["attn.w"]), p(n["attn.b"]))  # (B, T, 3C)
            a, c_att = attention_forward(qkv, cfg.n_head, drop, rng)  # (B, T, C)
            a, c_proj = linear_forward(a, p(n["proj.w"]), p(n["proj.b"]))
            a, m_attn = dropout_forward(a, drop, rng)
            x = x + a  # residual
            h, c_ln2 = layernorm_forward(x, p(n["ln_2.w"]), p(n["ln_2.b"]), cfg.layer_norm_epsilon)
            h, c_fc = linear_forward(h, p(n["fc.w"]), p(n["fc.b"]))  # (B, T, 4C)
            h, c_gelu = gelu_forward(h)
            h, c_mproj = linear_forward(h, p(n["mlp_proj.w"]), p(n["mlp_proj.b"]))  # (B, T, C)
            h, m_mlp = dropout_forward(h, drop, rng)
            x = x + h  # residual
            if keep:
                blocks.append((c_ln1, c_attn, c_att, c_proj, m_attn, c_ln2, c_fc, c_gelu, c_mproj, m_mlp))
        xf, c_lnf = layernorm_forward(
            x, p("transformer.ln_f.weight"), p("transformer.ln_f.bias"), cfg.layer_norm_epsilon
        )
        wte = p("transformer.wte.weight")
        logits = (xf.reshape(B * T, -1) @ wte.T).reshape(B, T, -1)  # (B, T, V): the LM head is wte (tied)
        self._cache = None
        if targets is None:
            return logits, None
        loss, c_loss = crossentropy_forward(logits, targets)
        self._cache = (enc_cache, enc_mask, blocks, c_lnf, xf, c_loss)
        return logits, loss

    def backward(self, scale: float = 1.0) -> None:
        """Accumulate d(scale * loss)/d(param) into every `.grad` (scale < 1 for gradient accumulation).

        Needs the previous forward to have had targets."""
        if self._cache is None:
            raise RuntimeError("backward() needs a forward with targets first (and only one backward per forward)")
        cfg = self.config
        enc_cache, enc_mask, blocks, c_lnf, xf, c_loss = self._cache
        self._cache = None
        params = self.params

        def acc(name, grad):
            params[name].accumulate(grad)

        dlogits = crossentropy_backward(c_loss, scale)  # (B, T, V)
        wte = params["transformer.wte.weight"]
        V, C = wte.data.shape
        dlogits2 = dlogits.reshape(-1, V)  # (B*T, V)
        dxf = (dlogits2 @ wte.data).reshape(xf.shape)  # (B, T, C)
        acc("transformer.wte.weight", dlogits2.T @ xf.reshape(-1, C))  # (V, C): the LM head's share of dwte
        dx, dw, db = layernorm_backward(dxf, c_lnf)
        acc("transformer.ln_f.weight", dw)
        acc("transformer.ln_f.bias", db)
        for l in reversed(range(cfg.n_layer)):
            n = _block_names(l)
            c_ln1, c_attn, c_att, c_proj, m_attn, c_ln2, c_fc, c_gelu, c_mproj, m_mlp = blocks[l]
            # MLP branch: x = x + drop(proj(gelu(fc(ln_2(x)))))
            dh, dw, db = linear_backward(dropout_backward(dx, m_mlp), c_mproj)
            acc(n["mlp_proj.w"], dw)
            acc(n["mlp_proj.b"], db)
            dh = gelu_backward(dh, c_gelu)
            dh, dw, db = linear_backward(dh, c_fc)
            acc(n["fc.w"], dw)
            acc(n["fc.b"], db)
            dh, dw, db = layernorm_backward(dh, c_ln2)
            acc(n["ln_2.w"], dw)
            acc(n["ln_2.b"], db)
            dx = dx + dh  # the residual passes dx through unchanged and adds the branch's gradient
            # attention branch: x = x + drop(proj(attn(c_attn(ln_1(x)))))
            da, dw, db = linear_backward(dropout_backward(dx, m_attn), c_proj)
            acc(n["proj.w"], dw)
            acc(n["proj.b"], db)
            dqkv = attention_backward(da, c_att)
            dh, dw, db = linear_backward(dqkv, c_attn)
            acc(n["attn.w"], dw)
            acc(n["attn.b"], db)
            dh, dw, db = layernorm_backward(dh, c_ln1)
            acc(n["ln_1.w"], dw)
            acc(n["ln_1.b"], db)
            dx = dx + dh
        dx = dropout_backward(dx, enc_mask)
        wpe = params["transformer.wpe.weight"]
        if wpe.grad is None:
            wpe.grad = np.zeros_like(wpe.data)
        encoder_backward(dx, enc_cache, wte.grad, wpe.grad)  # the embedding's share of dwte (tying)

    # ----------------------------------------------------------------- inference with a KV cache

    def forward_cached(self, idx, cache: KVCache, valid=None, all_logits: bool = False) -> np.ndarray:
        """Run new tokens idx (B, Tn) against `cache`, append their keys/values, return logits.

        `valid` (B, Tn) marks real tokens (False = left padding of a shorter prompt). Returns the
        last position's logits (B, V), or (B, Tn, V) with all_logits. Dropout is never applied.
        """
        cfg = self.config
        idx = self._check_idx(idx)
        B, Tn = idx.shape
        if B != cache.k.shape[1]:
            raise ValueError(f"batch size {B} does not match the KV cache's {cache.k.shape[1]}")
        if Tn == 0:
            raise ValueError("forward_cached needs at least one new token")
        if cache.length + Tn > cache.capacity:
            raise ValueError(
                f"{cache.length} cached + {Tn} new tokens exceed the context of {cache.capacity} "
                f"(n_positions={cfg.n_positions})"
            )
        valid = np.ones((B, Tn), dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
        if valid.shape != (B, Tn):
            raise ValueError(f"valid mask shape {valid.shape} must equal idx shape {(B, Tn)}")
        positions = cache.next_pos[:, None] + np.cumsum(valid, axis=1) - valid  # (B, Tn): pads take no slot
        positions = np.minimum(positions, cfg.n_positions - 1)
        cache.valid[:, cache.length : cache.length + Tn] = valid
        p = self._p
        x, _ = encoder_forward(p("transformer.wte.weight"), p("transformer.wpe.weight"), idx, positions)
        for l in range(cfg.n_layer):
            n = _block_names(l)
            h, _ = layernorm_forward(x, p(n["ln_1.w"]), p(n["ln_1.b"]), cfg.layer_norm_epsilon)
            qkv, _ = linear_forward(h, p(n["attn.w"]), p(n["attn.b"]))
            a = attention_cached(qkv, cfg.n_head, cache, l)
            a, _ = linear_forward(a, p(n["proj.w"]), p(n["proj.b"]))
            x = x + a
            h, _ = layernorm_forward(x, p(n["ln_2.w"]), p(n["ln_2.b"]), cfg.layer_norm_epsilon)
            h, _ = linear_forward(h, p(n["fc.w"]), p(n["fc.b"]))
            h, _ = gelu_forward(h)
            h, _ = linear_forward(h, p(n["mlp_proj.w"]), p(n["mlp_proj.b"]))
            x = x + h
        cache.length += Tn
        cache.next_pos += valid.sum(axis=1)
        if not all_logits:
            x = x[:, -1:]  # only the last position is needed to pick the next token
        x, _ = layernorm_forward(x, p("transformer.ln_f.weight"), p("transformer.ln_f.bias"), cfg.layer_norm_epsilon)
        logits, _ = linear_forward(x, p("transformer.wte.weight").T, None)
        return logits if all_logits else logits[:, 0]

    # ----------------------------------------------------------------- Hugging Face folder format (gpt2/hf.py)

    def save_pretrained(self, path: str | os.PathLike) -> Path:
        """Write `config.json` and `model.safetensors` (float32) as transformers does."""
        from .hf import save_pretrained

        return save_pretrained(self, path)

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, dtype=np.float32) -> GPT:
        """Load a Hugging Face GPT-2 folder (`config.json` + `model.safetensors`), every size checked first."""
        from .hf import from_pretrained

        return from_pretrained(path, dtype)


def config_from_dict(values: dict) -> GPTConfig:
    """GPTConfig from our own (asdict) form, as stored in training checkpoints."""
    known = {f.name for f in fields(GPTConfig)}
    return GPTConfig(**{k: v for k, v in values.items() if k in known})


def config_to_dict(config: GPTConfig) -> dict:
    return asdict(config)
