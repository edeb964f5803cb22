"""The network's building blocks as explicit forward/backward pairs, batched over examples.

The contract every layer here follows (llm.c's style: `*_forward` / `*_backward` functions,
no layer objects, because the 1989 network is a fixed pipeline of five layers and the reader
should see each layer's formula and its derivative side by side, not a module framework):

- `y, cache = name_forward(x, params...)`: a pure function of its arguments; `cache` holds
  what the backward needs (a NamedTuple where it holds more than two things, `ConvCache`).
- `dx, dw, db = name_backward(dy, cache)` (an activation: `dz = name_backward(dy, y)`):
  takes dloss/dy, returns new arrays; it stores nothing and accumulates nothing. The caller
  (`model.Net.backward`) writes the parameter gradients into its flat `grads` vector,
  overwriting the previous example's.
- a loss returns `(loss, dloss/dinput)` in one call: it is where the backward pass starts.
- Shapes are in the comments; every backward is derived by hand in its docstring, checked
  against finite differences (tests/test_layers.py) and against PyTorch (tests/test_parity_torch.py).

- `conv_forward/backward`: a 2-D convolution (really a cross-correlation, as in PyTorch)
  with stride, constant padding (the paper pads with -1, the background), one bias per
  map or one bias per unit, and an optional table of which input planes each group of
  output maps sees (H2's partial connectivity in the paper). Written with
  im2col through precomputed index arrays: a gather and one batched matmul.
- `scaled_tanh`, `relu`: the activations. `dropout`: inverted dropout with a given mask.
- `linear`: x @ W + b. `mse_loss`, `softmax_cross_entropy`: the losses.

These are the readable, batched versions used for evaluation and checking; the training
loop at batch size 1 runs the same computation fused on preallocated buffers (`fast.py`),
tied to these by an equality test.

Imports: NumPy and the standard library only, so this file can be copied on its own.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

__all__ = [
    "TANH_A",
    "TANH_S",
    "ConvCache",
    "conv_backward",
    "conv_forward",
    "conv_indices",
    "conv_output_size",
    "dropout_backward",
    "dropout_forward",
    "linear_backward",
    "linear_forward",
    "mse_loss",
    "relu_backward",
    "relu_forward",
    "scaled_tanh_backward",
    "scaled_tanh_forward",
    "softmax_cross_entropy",
]

# LeCun's scaled tanh f(x) = A tanh(S x): f(+-1) = +-1, so +-1 targets sit where the
# curvature is largest rather than at the asymptotes (LeCun 1989b; "Efficient BackProp" 4.4).
TANH_A = 1.7159
TANH_S = 2.0 / 3.0


# --------------------------------------------------------------------------- convolution


def conv_output_size(size: int, kernel: int, stride: int, pad: int) -> int:
    """floor((size + 2 pad - kernel) / stride) + 1; a ValueError if the kernel does not fit."""
    if size + 2 * pad < kernel:
        raise ValueError(f"a {kernel}x{kernel} kernel does not fit a {size}x{size} input padded by {pad}")
    return (size + 2 * pad - kernel) // stride + 1


class ConvCache(NamedTuple):
    """What conv_backward needs from conv_forward."""

    padded_shape: tuple[int, int, int, int]  # (N, C, H + 2 pad, W + 2 pad)
    pad: int
    w: np.ndarray  # (O, Cg, K, K) the kernels
    b: np.ndarray | None  # (O,), (O, Ho, Wo) or None
    cols: np.ndarray  # (N, G, Cg*K*K, Ho*Wo) im2col of the padded input
    idx: np.ndarray  # (G, Cg*K*K, Ho*Wo) where each column entry was gathered from
    planes: tuple[tuple[int, ...], ...]  # the input planes each group of output maps sees


@lru_cache(maxsize=32)
def conv_indices(
    in_shape: tuple[int, int, int], kernel: int, stride: int, pad: int, planes: tuple[tuple[int, ...], ...]
) -> np.ndarray:
    """im2col as an index array: (G, Cg*K*K, Ho*Wo) positions into the flattened padded input.

    `in_shape` is (C, H, W) before padding; `planes[g]` lists the Cg input planes that output
    group g sees. cols = padded.reshape(-1)[idx] gives, for group g, the matrix whose row
    (c, ki, kj) and column (oi, oj) is padded[planes[g][c], stride*oi + ki, stride*oj + kj].
    Cached: the network builds each geometry once.
    """
    _, H, W = in_shape
    Hp, Wp = H + 2 * pad, W + 2 * pad
    Ho, Wo = conv_output_size(H, kernel, stride, pad), conv_output_size(W, kernel, stride, pad)
    # exercise: im2col_indices: idx[g, (c, ki, kj), (oi, oj)] into the flat padded input (README "im2col")
    plane = np.asarray(planes)[:, :, None, None, None, None]  # (G, Cg, 1, 1, 1, 1)
    ki = np.arange(kernel)[:, None, None, None]  # (K, 1, 1, 1)
    kj = np.arange(kernel)[:, None, None]  # (K, 1, 1)
    oi = np.arange(Ho)[:, None]  # (Ho, 1)
    oj = np.arange(Wo)  # (Wo,)
    flat = plane * (Hp * Wp) + (stride * oi + ki) * Wp + (stride * oj + kj)  # (G, Cg, K, K, Ho, Wo)
    idx = flat.reshape(len(planes), -1, Ho * Wo).astype(np.intp)
    # end exercise
    idx.setflags(write=False)
    return idx


def _check_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, planes, stride: int, pad: int):
    if x.ndim != 4:
        raise ValueError(f"conv input must be (N, C, H, W), got shape {x.shape}")
    if w.ndim != 4 or w.shape[2] != w.shape[3]:
        raise ValueError(f"conv weight must be (O, Cg, K, K), got shape {w.shape}")
    if stride < 1 or pad < 0:
        raise ValueError(f"need stride >= 1 and pad >= 0, got stride={stride}, pad={pad}")
    C = x.shape[1]
    if planes is None:
        planes = (tuple(range(C)),)
    planes = tuple(tuple(int(c) for c in group) for group in planes)
    if len({len(group) for group in planes}) != 1 or any(not 0 <= c < C for group in planes for c in group):
        raise ValueError(f"planes must be groups of equal size with indices in [0, {C}), got {planes}")
    O, Cg, K, _ = w.shape
    if Cg != len(planes[0]) or O % len(planes):
        raise ValueError(
            f"weight {w.shape} does not match {len(planes)} group(s) of {len(planes[0])} input planes "
            f"(need O divisible by the group count and Cg = planes per group)"
        )
    Ho, Wo = conv_output_size(x.shape[2], K, stride, pad), conv_output_size(x.shape[3], K, stride, pad)
    if b is not None and b.shape not in ((O,), (O, Ho, Wo)):
        raise ValueError(f"bias must be ({O},) per map or ({O}, {Ho}, {Wo}) per unit, got {b.shape}")
    return planes, Ho, Wo


def conv_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: int = 1,
    pad: int = 0,
    pad_value: float = 0.0,
    planes=None,
):
    """y = conv(pad(x, pad_value), w, stride) + b.

    x (N, C, H, W); w (O, Cg, K, K); b (O,), (O, Ho, Wo) or None; planes: G groups of Cg
    input planes, output maps split into G equal consecutive groups (None: one group, all planes).
    Returns y (N, O, Ho, Wo) and the cache for conv_backward.
    """
    planes, Ho, Wo = _check_conv(x, w, b, planes, stride, pad)
    N, C, H, W = x.shape
    O, Cg, K, _ = w.shape
    G = len(planes)
    # exercise: conv_forward: pad, gather the columns, one matmul per group, add the bias (README "im2col")
    padded = np.full((N, C, H + 2 * pad, W + 2 * pad), pad_value, dtype=np.result_type(x, w))
    padded[:, :, pad : pad + H, pad : pad + W] = x
    idx = conv_indices((C, H, W), K, stride, pad, planes)  # (G, Cg*K*K, L)
    cols = padded.reshape(N, -1)[:, idx]  # (N, G, Cg*K*K, L)
    wg = w.reshape(G, O // G, Cg * K * K)  # (G, O/G, Cg*K*K)
    y = (wg @ cols).reshape(N, O, Ho, Wo)  # (N, O, Ho, Wo)
    if b is not None:
        y += b if b.ndim == 3 else b[:, None, None]
    # end exercise
    return y, ConvCache(padded.shape, pad, w, b, cols, idx, planes)


def conv_backward(dy: np.ndarray, cache: ConvCache):
    """Gradients (dx, dw, db) of conv_forward, from dy (N, O, Ho, Wo).

    With y[n, g, o, l] = sum_r wg[g, o, r] cols[n, g, r, l] + b:
        dwg[g, o, r] = sum_{n, l} dy[n, g, o, l] cols[n, g, r, l]       (dy @ cols^T, summed over n)
        dcols[n, g, r, l] = sum_o wg[g, o, r] dy[n, g, o, l]            (wg^T @ dy)
        dx = the sum of dcols back into the positions they were gathered from (col2im),
             dropping the padding, which is a constant and not an input;
        db = dy summed over n (per-unit bias) or over n and positions (per-map bias).
    """
    pad, w, b, cols, idx, planes = cache.pad, cache.w, cache.b, cache.cols, cache.idx, cache.planes
    N, C, Hp, Wp = cache.padded_shape
    O, Cg, K, _ = w.shape
    G, L = len(planes), idx.shape[2]
    if dy.shape[0] != N or dy.size != N * O * L:
        raise ValueError(f"dy has shape {dy.shape}, but the forward pass produced ({N}, {O}, {L} positions)")
    # exercise: conv_backward: dw, dcols, col2im to dx (drop the padding), db (README "Convolution backward")
    dyg = dy.reshape(N, G, O // G, L)  # (N, G, O/G, L)
    dw = np.einsum("ngol,ngrl->gor", dyg, cols).reshape(w.shape)  # (O, Cg, K, K)
    dcols = w.reshape(G, O // G, Cg * K * K).transpose(0, 2, 1) @ dyg  # (N, G, Cg*K*K, L)
    dpadded = np.zeros((N, C * Hp * Wp), dtype=dcols.dtype)
    np.add.at(dpadded, (slice(None), idx), dcols)  # col2im: scatter-add, (N, C*Hp*Wp)
    dx = dpadded.reshape(N, C, Hp, Wp)[:, :, pad : Hp - pad, pad : Wp - pad]  # (N, C, H, W)
    db = None
    if b is not None:
        db = dy.sum(0) if b.ndim == 3 else dy.sum((0, 2, 3))
    # end exercise
    return dx, dw, db


# --------------------------------------------------------------------------- activations


def scaled_tanh_forward(z: np.ndarray, a: float = TANH_A, s: float = TANH_S):
    """y = a tanh(s z), by default a = 1.7159, s = 2/3 (a = s = 1: plain tanh). Returns y and the cache (y)."""
    y = a * np.tanh(s * z)
    return y, y


def scaled_tanh_backward(dy: np.ndarray, y: np.ndarray, a: float = TANH_A, s: float = TANH_S) -> np.ndarray:
    """dz = dy * a s (1 - tanh^2(s z)) = dy * (s / a) (a^2 - y^2), written with the output y."""
    # exercise: scaled_tanh_backward: dz = dy * f'(z), written with the output y (README "The scaled tanh")
    return dy * (s / a) * (a * a - y * y)
    # end exercise


def relu_forward(z: np.ndarray):
    """y = max(z, 0). Returns y and the cache (y)."""
    y = np.maximum(z, 0)
    return y, y


def relu_backward(dy: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dz = dy where the unit was active (y > 0), else 0."""
    return dy * (y > 0)


def dropout_forward(x: np.ndarray, mask: np.ndarray | None):
    """Inverted dropout: y = x * mask, mask holding 0 (dropped) or 1 / (1 - p) (kept); None: identity."""
    if mask is None:
        return x, None
    if mask.shape != x.shape:
        raise ValueError(f"dropout mask has shape {mask.shape}, the activations {x.shape}")
    return x * mask, mask


def dropout_backward(dy: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """dx = dy * mask (the same units are dropped, the same scale applies)."""
    return dy if mask is None else dy * mask


# --------------------------------------------------------------------------- fully connected


def linear_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray):
    """y = x @ w + b; x (N, I), w (I, O), b (O,). Returns y (N, O) and the cache."""
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0] or b.shape != (w.shape[1],):
        raise ValueError(f"linear: x {x.shape} @ w {w.shape} + b {b.shape} do not fit (N, I) @ (I, O) + (O,)")
    return x @ w + b, (x, w)


def linear_backward(dy: np.ndarray, cache):
    """dx = dy @ w^T, dw = x^T @ dy, db = dy summed over the batch."""
    # exercise: linear_backward: dx, dw, db of y = x @ w + b (README "The fully connected layers")
    x, w = cache
    return dy @ w.T, x.T @ dy, dy.sum(0)
    # end exercise


# --------------------------------------------------------------------------- losses


def mse_loss(yhat: np.ndarray, target: np.ndarray):
    """Mean squared error over every output of every example (the repro's mean((y - yhat)^2)).

    Returns (loss, dloss/dyhat) with dloss/dyhat = 2 (yhat - target) / yhat.size.
    """
    if yhat.shape != target.shape:
        raise ValueError(f"outputs {yhat.shape} and targets {target.shape} differ in shape")
    # exercise: mse_loss: the mean of (yhat - target)^2 and its gradient (README "Mean squared error")
    diff = yhat - target
    return float(np.mean(diff * diff)), (2.0 / diff.size) * diff
    # end exercise


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray):
    """Mean over examples of -log softmax(logits)[label]; returns (loss, dloss/dlogits).

    dloss/dlogits = (softmax(logits) - onehot(label)) / N. The max is subtracted first so
    exp never overflows; log-softmax is computed as shifted - log(sum(exp(shifted))).
    """
    if logits.ndim != 2 or labels.shape != (logits.shape[0],):
        raise ValueError(f"need logits (N, K) and labels (N,), got {logits.shape} and {labels.shape}")
    if labels.min(initial=0) < 0 or labels.max(initial=0) >= logits.shape[1]:
        raise ValueError(f"labels must lie in [0, {logits.shape[1]})")
    N = logits.shape[0]
    shifted = logits - logits.max(1, keepdims=True)  # (N, K)
    exp = np.exp(shifted)
    sums = exp.sum(1, keepdims=True)  # (N, 1)
    rows = np.arange(N)
    loss = float(np.mean(np.log(sums[:, 0]) - shifted[rows, labels]))
    dlogits = exp / sums
    dlogits[rows, labels] -= 1.0
    return loss, dlogits / N
