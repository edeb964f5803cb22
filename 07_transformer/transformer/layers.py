"""The Transformer's building blocks, each with a forward and a hand-derived backward pass.

The contract of every layer in this folder (after llm.c's explicit *_forward/*_backward
pairs, written as small modules in the style of the Annotated Transformer):

- `forward(...)` returns `(output, saved)`: `saved` holds what the backward pass needs. When
  it holds more than two things it is a NamedTuple with named fields (`AttentionSaved`,
  `FeedForwardSaved`, ...), llm.c's "activation tensors", never a positional tuple;
- `backward(dout, saved)` returns the gradient with respect to each input (a tuple when there
  are two inputs, e.g. `dx, dmemory = attention.backward(...)`) and *adds* the parameter
  gradients into `self.grads` (adding, not assigning, so that a weight used twice, such as the
  shared embedding matrix of section 3.4, collects the gradient of every use; `zero_grad()`
  clears them before a step);
- parameters live in `self.params` (arrays updated in place by the optimizer), float32 for
  training and float64 for gradient checks; nothing here imports anything but NumPy.

What is here: Linear, LayerNorm, dropout, scaled dot-product attention with masks (3.2.1),
multi-head attention written batched over heads (3.2.2), the position-wise feed-forward
network (3.3), token embeddings scaled by sqrt(d_model) whose matrix doubles as the output
projection (3.4), and sinusoidal positional encodings (3.5).
What is not here: the wiring of layers into encoder/decoder stacks (see `model.py`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

# A large negative number instead of -inf for masked scores: exp() of it underflows to
# exactly 0, but a fully masked row stays finite (uniform) instead of becoming NaN.
MASK_VALUE = -1e9


class Module:
    """Holds parameters in `self.params` and their gradients in `self.grads` (same names).

    Child modules are found among the attributes (a Module or a list of Modules), so
    `named_parameters()` walks the whole tree; an array reachable twice (a shared weight) is
    listed once, under its first name.
    """

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def add_param(self, name: str, value: np.ndarray) -> np.ndarray:
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)
        return value

    def _children(self):
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for index, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{index}", item

    def _walk(self, prefix: str, seen: set):
        for name, value in self.params.items():
            if id(value) not in seen:
                seen.add(id(value))
                yield prefix + name, value, self.grads[name]
        for name, child in self._children():
            yield from child._walk(f"{prefix}{name}.", seen)

    def named_parameters(self) -> dict[str, np.ndarray]:
        return {name: value for name, value, _ in self._walk("", set())}

    def named_gradients(self) -> dict[str, np.ndarray]:
        return {name: grad for name, _, grad in self._walk("", set())}

    def zero_grad(self) -> None:
        for _, _, grad in self._walk("", set()):
            grad.fill(0.0)

    def num_parameters(self) -> int:
        return sum(value.size for value in self.named_parameters().values())


class Linear(Module):
    """y = x W + b, with W of shape (d_in, d_out)."""

    def __init__(self, d_in: int, d_out: int, rng: np.random.Generator, dtype=np.float32, bias: bool = True):
        super().__init__()
        # Xavier/Glorot uniform, as the Annotated Transformer and torch.nn.Transformer use.
        limit = math.sqrt(6.0 / (d_in + d_out))
        self.W = self.add_param("W", rng.uniform(-limit, limit, size=(d_in, d_out)).astype(dtype))
        self.b = self.add_param("b", np.zeros(d_out, dtype=dtype)) if bias else None

    def forward(self, x):
        out = x @ self.W  # (..., d_out)
        if self.b is not None:
            out += self.b
        return out, x

    def backward(self, dout, cache):
        x = cache
        d_out = dout.shape[-1]
        self.grads["W"] += x.reshape(-1, x.shape[-1]).T @ dout.reshape(-1, d_out)
        if self.b is not None:
            self.grads["b"] += dout.reshape(-1, d_out).sum(axis=0)
        return dout @ self.W.T


class LayerNorm(Module):
    """Layer normalization over the last axis (Ba et al. 2016): gamma * (x - mean) / std + beta."""

    def __init__(self, d: int, dtype=np.float32, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.gamma = self.add_param("gamma", np.ones(d, dtype=dtype))
        self.beta = self.add_param("beta", np.zeros(d, dtype=dtype))

    def forward(self, x):
        mean = x.mean(axis=-1, keepdims=True)  # (..., 1)
        xc = x - mean
        rstd = 1.0 / np.sqrt((xc * xc).mean(axis=-1, keepdims=True) + self.eps)  # (..., 1)
        xhat = xc * rstd  # (..., d)
        return xhat * self.gamma + self.beta, (xhat, rstd)

    def backward(self, dout, cache):
        # exercise: layernorm_backward: dgamma, dbeta (added) and dx of LayerNorm (README 3.1)
        xhat, rstd = cache
        d = xhat.shape[-1]
        self.grads["gamma"] += (dout * xhat).reshape(-1, d).sum(axis=0)
        self.grads["beta"] += dout.reshape(-1, d).sum(axis=0)
        dxhat = dout * self.gamma
        # d/dx of (x - mean) * rstd, with mean and rstd depending on x:
        # dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
        return rstd * (dxhat - dxhat.mean(axis=-1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True))
        # end exercise


def dropout_forward(x, p: float, rng: np.random.Generator | None):
    """Inverted dropout: zero each entry with probability p, scale the rest by 1/(1-p).

    No-op (mask None) when p == 0 or rng is None (evaluation).
    """
    if rng is None or p == 0.0:
        return x, None
    mask = (rng.random(x.shape, dtype=np.float32) >= p).astype(x.dtype)
    mask *= 1.0 / (1.0 - p)
    return x * mask, mask


def dropout_backward(dout, mask):
    return dout if mask is None else dout * mask


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class AttentionSaved(NamedTuple):
    """What `attention_backward` needs from `attention_forward`."""

    weights: np.ndarray  # P = softmax(Q K^T / sqrt(d_k)), (B, h, Tq, Tk); the attention-map plots read it
    dropped: np.ndarray  # P after dropout (P itself without dropout)
    dropout_mask: np.ndarray | None
    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    scale: float  # 1 / sqrt(d_k)
    mask: np.ndarray | None  # True where attending is allowed


def attention_forward(q, k, v, mask=None, dropout: float = 0.0, rng=None):
    """Scaled dot-product attention, eq. (1): softmax(Q K^T / sqrt(d_k)) V.

    q (B, h, Tq, dk), k and v (B, h, Tk, dk); mask is boolean, broadcastable to
    (B, h, Tq, Tk), True where attending is allowed (padding: (B, 1, 1, Tk); causal:
    (1, 1, Tq, Tk)). Returns out (B, h, Tq, dk) and the `AttentionSaved` activations.
    """
    # exercise: scaled_dot_product_attention: softmax(Q K^T / sqrt(d_k)) V, masked, dropout on P (README 3.2.1)
    scale = 1.0 / math.sqrt(q.shape[-1])
    scores = q @ k.swapaxes(-1, -2)  # (B, h, Tq, Tk)
    scores *= scale
    if mask is not None:
        scores = np.where(mask, scores, np.asarray(MASK_VALUE, dtype=scores.dtype))
    weights = softmax(scores)  # (B, h, Tq, Tk)
    dropped, drop_mask = dropout_forward(weights, dropout, rng)
    out = dropped @ v  # (B, h, Tq, dk)
    return out, AttentionSaved(weights, dropped, drop_mask, q, k, v, scale, mask)
    # end exercise


def attention_backward(dout, saved: AttentionSaved):
    """Gradients of eq. (1) with respect to q, k, v.

    With P = softmax(S): dV = P^T dO, dP = dO V^T, dS = P * (dP - rowsum(dP * P)),
    and S = Q K^T * scale gives dQ = dS K * scale, dK = dS^T Q * scale.
    """
    # exercise: attention_backward: dQ, dK, dV of eq. (1) via the softmax Jacobian (README 3.2.1)
    weights = saved.weights
    dv = saved.dropped.swapaxes(-1, -2) @ dout  # (B, h, Tk, dk)
    dweights = dropout_backward(dout @ saved.v.swapaxes(-1, -2), saved.dropout_mask)  # (B, h, Tq, Tk)
    dscores = weights * (dweights - (dweights * weights).sum(axis=-1, keepdims=True))
    if saved.mask is not None:  # masked scores were replaced by a constant: no gradient flows there
        dscores = np.where(saved.mask, dscores, np.asarray(0.0, dtype=dscores.dtype))
    dscores *= saved.scale
    dq = dscores @ saved.k  # (B, h, Tq, dk)
    dk = dscores.swapaxes(-1, -2) @ saved.q  # (B, h, Tk, dk)
    return dq, dk, dv
    # end exercise


class MultiHeadAttentionSaved(NamedTuple):
    x: np.ndarray  # the queries' input (B, Tq, d)
    memory: np.ndarray | None  # the keys' and values' input (B, Tk, d); None when they were given
    attention: AttentionSaved
    merged: np.ndarray  # the heads side by side (B, Tq, d), the output projection's input


class MultiHeadAttention(Module):
    """Multi-head attention, section 3.2.2: h heads of size d_k = d_model / h, computed at once.

    The h per-head projections W_i^Q are the column blocks of one (d_model, d_model) matrix,
    so a single matmul projects all heads; a reshape to (B, h, T, d_k) then lets one batched
    matmul run every head (no Python loop over heads). Keys and values always come from the
    same input (the sequence itself for self-attention, the encoder output for
    encoder-decoder attention), so they share one (d_model, 2 d_model) projection.
    """

    def __init__(self, d_model: int, n_heads: int, rng, dtype=np.float32, dropout: float = 0.0):
        super().__init__()
        if d_model % n_heads != 0:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.d_model, self.n_heads, self.d_k = d_model, n_heads, d_model // n_heads
        self.dropout = dropout
        self.q_proj = Linear(d_model, d_model, rng, dtype)
        self.kv_proj = Linear(d_model, 2 * d_model, rng, dtype)
        self.out_proj = Linear(d_model, d_model, rng, dtype)

    def split_heads(self, x):
        B, T, _ = x.shape
        return x.reshape(B, T, self.n_heads, self.d_k).transpose(0, 2, 1, 3)  # (B, h, T, dk)

    def merge_heads(self, x):
        B, _, T, _ = x.shape
        return x.transpose(0, 2, 1, 3).reshape(B, T, self.d_model)  # (B, T, d_model)

    def project_kv(self, memory):
        """Keys and values of `memory` (B, Tk, d) split into heads: two (B, h, Tk, dk)."""
        kv, _ = self.kv_proj.forward(memory)  # (B, Tk, 2d)
        return self.split_heads(kv[..., : self.d_model]), self.split_heads(kv[..., self.d_model :])

    def forward(self, x, memory, mask=None, rng=None, kv=None):
        """x (B, Tq, d) attends over memory (B, Tk, d); pass memory=x for self-attention.

        kv: the keys and values of memory already projected and split into heads (two
        (B, h, Tk, dk)), as the decoder keeps them while it decodes one token at a time;
        memory is then not read, and there is no backward through them.
        """
        q_flat, _ = self.q_proj.forward(x)  # (B, Tq, d)
        if kv is None:
            k, v = self.project_kv(memory)
        else:
            k, v = kv
        heads, attention = attention_forward(self.split_heads(q_flat), k, v, mask, self.dropout, rng)  # (B, h, Tq, dk)
        merged = self.merge_heads(heads)  # (B, Tq, d)
        out, _ = self.out_proj.forward(merged)
        return out, MultiHeadAttentionSaved(x, None if kv is not None else memory, attention, merged)

    def backward(self, dout, saved: MultiHeadAttentionSaved):
        """Returns (dx, dmemory); for self-attention (memory = x) the caller adds the two."""
        dheads = self.split_heads(self.out_proj.backward(dout, saved.merged))  # (B, h, Tq, dk)
        dq, dk, dv = attention_backward(dheads, saved.attention)
        dkv = np.concatenate([self.merge_heads(dk), self.merge_heads(dv)], axis=-1)  # (B, Tk, 2d)
        dx = self.q_proj.backward(self.merge_heads(dq), saved.x)
        dmemory = self.kv_proj.backward(dkv, saved.memory)
        return dx, dmemory


class FeedForwardSaved(NamedTuple):
    x: np.ndarray  # input (B, T, d_model)
    relu_mask: np.ndarray  # where x W1 + b1 > 0
    dropout_mask: np.ndarray | None
    hidden: np.ndarray  # max(0, x W1 + b1) after dropout, the second layer's input (B, T, d_ff)


class FeedForward(Module):
    """Position-wise feed-forward network, eq. (2): FFN(x) = max(0, x W1 + b1) W2 + b2."""

    def __init__(self, d_model: int, d_ff: int, rng, dtype=np.float32, dropout: float = 0.0):
        super().__init__()
        self.dropout = dropout
        self.fc1 = Linear(d_model, d_ff, rng, dtype)
        self.fc2 = Linear(d_ff, d_model, rng, dtype)

    def forward(self, x, rng=None):
        h, _ = self.fc1.forward(x)  # (B, T, d_ff)
        relu_mask = h > 0
        h *= relu_mask
        # Dropout on the hidden activation, as the Annotated Transformer and torch do.
        h, dropout_mask = dropout_forward(h, self.dropout, rng)
        out, _ = self.fc2.forward(h)  # (B, T, d_model)
        return out, FeedForwardSaved(x, relu_mask, dropout_mask, h)

    def backward(self, dout, saved: FeedForwardSaved):
        dh = dropout_backward(self.fc2.backward(dout, saved.hidden), saved.dropout_mask)
        dh *= saved.relu_mask
        return self.fc1.backward(dh, saved.x)


class Embedding(Module):
    """Token embeddings scaled by sqrt(d_model) (section 3.4), usable as the output projection.

    `forward(ids)` returns E[ids] * sqrt(d_model); `project(x)` returns x E^T, the
    pre-softmax logits. Using one Embedding object for the source, the target and the
    output projection shares the weight matrix three ways, as in the paper.
    """

    def __init__(self, vocab_size: int, d_model: int, rng, dtype=np.float32):
        super().__init__()
        self.vocab_size, self.d_model = vocab_size, d_model
        self.scale = math.sqrt(d_model)
        # N(0, d^-1/2): the scaled embedding then has unit-variance entries, and the
        # logits x E^T start at unit scale when the same matrix projects the output.
        self.E = self.add_param("E", (rng.standard_normal((vocab_size, d_model)) / self.scale).astype(dtype))

    def forward(self, ids):
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"token ids must lie in [0, {self.vocab_size}); got [{ids.min()}, {ids.max()}]")
        return self.E[ids] * self.E.dtype.type(self.scale), ids  # (B, T, d)

    def backward(self, dout, cache):
        ids = cache
        np.add.at(self.grads["E"], ids.reshape(-1), dout.reshape(-1, self.d_model) * self.E.dtype.type(self.scale))

    def project(self, x):
        return x @ self.E.T, x  # (B, T, V)

    def project_backward(self, dlogits, cache):
        x = cache
        self.grads["E"] += dlogits.reshape(-1, self.vocab_size).T @ x.reshape(-1, self.d_model)
        return dlogits @ self.E  # (B, T, d)


def positional_encoding(max_len: int, d_model: int, dtype=np.float32):
    """Sinusoidal encodings, section 3.5: PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(...)."""
    # exercise: positional_encoding: PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(...) (README 3.5)
    position = np.arange(max_len)[:, None]  # (max_len, 1)
    inv_freq = np.exp(-math.log(10000.0) * np.arange(0, d_model, 2) / d_model)  # (d/2,)
    pe = np.zeros((max_len, d_model))
    pe[:, 0::2] = np.sin(position * inv_freq)
    pe[:, 1::2] = np.cos(position * inv_freq[: d_model // 2])
    return pe.astype(dtype)  # (max_len, d)
    # end exercise
