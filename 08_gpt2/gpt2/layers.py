"""GPT-2's layers as forward/backward pairs (llm.c style), each one reading as its formula.

Each `*_forward(...)` returns `(output, cache)`; each `*_backward(dout, cache)` returns the
gradients of the forward's inputs (and of its weights). Shapes: B batch, T time, C channels,
nh heads, hs = C / nh head size, V vocabulary. Every function works in the dtype of its inputs
(float32 for real use, float64 for gradchecks) and on NumPy or CuPy arrays alike (`xp_of`).

Two forwards, LayerNorm and GELU, work in place on their temporaries for speed; the plain
formulas stay beside them (`layernorm_reference`, `gelu_reference`, `gelu_backward_reference`),
tied by equality tests. Not here: the wiring of the layers into a block (model.py) and cached
attention for decoding (kv_cache.py).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .device import xp_of

__all__ = [
    "Parameter",
    "attention_backward",
    "attention_forward",
    "crossentropy_backward",
    "crossentropy_forward",
    "dropout_backward",
    "dropout_forward",
    "encoder_backward",
    "encoder_forward",
    "gelu_backward",
    "gelu_backward_reference",
    "gelu_forward",
    "gelu_reference",
    "layernorm_backward",
    "layernorm_forward",
    "layernorm_reference",
    "linear_backward",
    "linear_forward",
    "softmax_lastaxis_",
]


def encoder_forward(wte: np.ndarray, wpe: np.ndarray, idx: np.ndarray, positions: np.ndarray | None = None):
    """Token + learned position embedding (Radford et al. 2018, eq. 2): h0 = U We + Wp."""
    xp = xp_of(wte)
    T = idx.shape[1]
    pos = xp.arange(T) if positions is None else xp.asarray(positions)
    x = wte[idx] + wpe[pos]  # (B, T, C)
    return x, (idx, pos)


def encoder_backward(dx: np.ndarray, cache, dwte: np.ndarray, dwpe: np.ndarray) -> None:
    """Scatter-add dx into the rows of the embedding tables that the forward gathered."""
    idx, pos = cache
    xp = xp_of(dwte)
    C = dx.shape[-1]
    scatter_add = xp.add.at if hasattr(xp.add, "at") else __import__("cupyx").scatter_add  # older CuPy
    if pos.ndim == 1:
        dwpe[pos] += dx.sum(axis=0)  # (T, C): each position appears once per batch row
    else:
        scatter_add(dwpe, pos.reshape(-1), dx.reshape(-1, C))
    scatter_add(dwte, idx.reshape(-1), dx.reshape(-1, C))  # a token may repeat: add, do not assign


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
    # exercise: layernorm_backward: dx from dout, xhat, rstd and w (README: The backward pass)
    dxhat = dout * w  # (B, T, C)
    dx = dxhat - dxhat.mean(axis=-1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)
    dx *= rstd
    # end exercise
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
    # exercise: gelu_backward: dout * d gelu(x)/dx, t = tanh(c (x + 0.044715 x^3)) (README: The backward pass)
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
    # end exercise
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
def _causal_bias(T: int, dtype: np.dtype, xp=np) -> np.ndarray:
    """(T, T) additive mask: 0 on and below the diagonal, -inf above (a token sees only its past)."""
    bias = xp.triu(xp.full((T, T), -np.inf, dtype=dtype), k=1)
    if xp is np:
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
    att += _causal_bias(T, att.dtype, xp_of(att))
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
    # exercise: softmax_backward: dS = A * (dA - sum_j dA A) (README: The backward pass)
    dpre = datt
    dpre -= np.einsum("bhij,bhij->bhi", datt, att)[..., None]
    dpre *= att
    # end exercise
    dq = dpre @ k  # (B, nh, T, hs)
    dq *= scale
    dk = dpre.transpose(0, 1, 3, 2) @ q  # (B, nh, T, hs)
    dqkv = xp_of(dy).empty((B, T, 3, nh, hs), dtype=dy.dtype)
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
    # exercise: crossentropy_backward: (softmax - onehot) / n_kept, 0 on ignored rows (README: The backward pass)
    dlogits = probs  # reuse the buffer: the cache is consumed
    dlogits[keep, t[keep]] -= 1.0
    if keep.size != len(t):
        ignored = xp_of(probs).ones(len(t), dtype=bool)
        ignored[keep] = False
        dlogits[ignored] = 0.0
    dlogits *= dloss / keep.size
    # end exercise
    return dlogits.reshape(shape)


# --------------------------------------------------------------------------- parameters


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


# --------------------------------------------------------------------------- plain formulas (tied by tests)


def layernorm_reference(x, w, b, eps: float):
    """y = (x - mean) / sqrt(var + eps) * w + b, written out (Ba et al. 2016, eq. 3-4)."""
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def gelu_reference(x):
    """0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) (Hendrycks & Gimpel 2016, sec. 2)."""
    return 0.5 * x * (1.0 + np.tanh(_GELU_C * (x + 0.044715 * x**3)))


def gelu_backward_reference(dout, x):
    """dout * d/dx gelu(x), the derivative written out."""
    t = np.tanh(_GELU_C * (x + 0.044715 * x**3))
    return dout * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _GELU_C * (1.0 + 3 * 0.044715 * x * x))
