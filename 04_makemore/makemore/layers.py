"""A small layer library with explicit backward passes (lecture 4, "becoming a backprop ninja").

The contract every layer here follows is the lectures': lecture 3's modules (PyTorch-like
classes called as functions, with `parameters()`) plus, from lecture 4 on, an explicit
`backward` that ACCUMULATES into the gradients, as PyTorch's `.grad` does:

- `layer(x)` is `layer.forward(x)`: it computes the output and remembers what backward needs.
- Parameters are attributes (`self.weight`, `self.bias`; the GRU's `self.w_r`, ...), named in
  the class's `param_names`; each has its gradient beside it, `self.d<name>`, same shape.
  `parameters()` and `gradients()` return them by name, the same arrays every time, so an
  optimizer can hold them and update in place.
- `backward(dout)` adds d(loss)/d(parameter) into every `d<name>` and returns d(loss)/d(input).
  `zero_grad()` sets the gradients to 0; the training loop calls it before each backward (the
  lectures' `p.grad = None`). Accumulating is what lets a recurrent cell, applied T times in
  one forward, collect its gradient over the steps (backpropagation through time), and an
  embedding row used several times collect each use.

There is no autograd: each backward is the hand-derived formula, written next to its forward,
checked against finite differences (tests/test_layers.py) and against PyTorch
(tests/test_parity_torch.py). This file imports only NumPy, so it can be copied alone.

Layers follow lectures 3 and 5 (PyTorch-like names and shapes): Embedding, Linear,
BatchNorm1d, Tanh, FlattenConsecutive, Sequential; plus the recurrent cells of makemore.py
(RNNCell, GRUCell) with backpropagation through time, and the fused softmax cross-entropy.

Parameters are float32 for training; pass `dtype=np.float64` for gradient checks.
Not here: dropout, other nonlinearities, convolutions.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "BatchNorm1d",
    "Embedding",
    "FlattenConsecutive",
    "GRUActivations",
    "GRUCell",
    "Layer",
    "Linear",
    "RNNCell",
    "Sequential",
    "Tanh",
    "cross_entropy",
]


def make_rng(seed=None) -> np.random.Generator:
    """A NumPy Generator from an int seed (or None); a Generator is passed through unchanged."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


class Layer:
    """Base class: the contract above. Subclasses list their parameters' names in `param_names`."""

    training = True
    param_names: tuple[str, ...] = ()

    def __call__(self, *inputs):
        return self.forward(*inputs)

    def parameters(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.param_names if getattr(self, name) is not None}

    def gradients(self) -> dict[str, np.ndarray]:
        """Same keys as `parameters()`: what `backward` has accumulated since `zero_grad`."""
        return {name: getattr(self, "d" + name) for name in self.parameters()}

    def zero_grad(self) -> None:
        for grad in self.gradients().values():
            grad.fill(0.0)

    def buffers(self) -> dict[str, np.ndarray]:
        """State that is saved in checkpoints but not trained (BatchNorm's running statistics)."""
        return {}

    def train(self, mode: bool = True) -> Layer:
        self.training = mode
        return self

    def eval(self) -> Layer:
        return self.train(False)


def _randn(rng, shape, scale, dtype) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(dtype)


class Embedding(Layer):
    """A lookup table C (num_embeddings, embedding_dim): forward is C[idx] (Bengio et al. 2003, sec. 2)."""

    param_names = ("weight",)

    def __init__(self, num_embeddings: int, embedding_dim: int, rng=None, dtype=np.float32, scale: float = 1.0):
        rng = make_rng(rng)
        self.weight = _randn(rng, (num_embeddings, embedding_dim), scale, dtype)
        self.dweight = np.zeros_like(self.weight)
        self._eye = np.eye(num_embeddings, dtype=dtype)  # one-hot rows for the backward

    def forward(self, idx: np.ndarray) -> np.ndarray:
        if not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"Embedding expects integer indices, got {idx.dtype}")
        n = self.weight.shape[0]
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise ValueError(f"Embedding indices must be in [0, {n}), got [{idx.min()}, {idx.max()}]")
        self.idx = idx
        return self.weight[idx]  # (*idx.shape, D)

    def backward(self, dout: np.ndarray) -> None:
        # Rows used several times accumulate their gradients: dC = onehot(idx).T @ dout.
        # A one-hot matmul is ~6x faster in NumPy than np.add.at for this small table.
        # exercise: embedding_backward: add dout into the rows of dweight that idx used, repeats summed (README 5.)
        onehot = self._eye[self.idx.reshape(-1)]  # (N, V)
        self.dweight += onehot.T @ dout.reshape(-1, self.weight.shape[1])  # (V, D)
        # end exercise
        return None  # indices have no gradient


class Linear(Layer):
    """y = x @ W + b over the last axis of x (any leading shape).

    `weight_scale` defaults to 1/sqrt(fan_in) (lecture 3's Kaiming-style init, without the gain);
    the lecture-2 MLP uses plain N(0, 1) weights and biases (`weight_scale=1, bias_scale=1`).
    """

    param_names = ("weight", "bias")

    def __init__(
        self,
        fan_in: int,
        fan_out: int,
        bias: bool = True,
        rng=None,
        dtype=np.float32,
        weight_scale: float | None = None,
        bias_scale: float = 0.0,
    ):
        rng = make_rng(rng)
        scale = fan_in**-0.5 if weight_scale is None else weight_scale
        self.weight = _randn(rng, (fan_in, fan_out), scale, dtype)
        self.dweight = np.zeros_like(self.weight)
        self.bias = _randn(rng, (fan_out,), bias_scale, dtype) if bias else None
        self.dbias = np.zeros_like(self.bias) if bias else None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.shape[-1] != self.weight.shape[0]:
            raise ValueError(f"Linear expects inputs with last axis {self.weight.shape[0]}, got shape {x.shape}")
        self.x = x
        out = x @ self.weight  # (..., fan_out)
        if self.bias is not None:
            out += self.bias
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # exercise: linear_backward: add dW = x^T dout, db = sum(dout) over leading axes; return dout W^T (README 5.)
        fan_in, fan_out = self.weight.shape
        x2 = self.x.reshape(-1, fan_in)  # (N, fan_in)
        d2 = dout.reshape(-1, fan_out)  # (N, fan_out)
        self.dweight += x2.T @ d2  # dW = x^T dout
        if self.bias is not None:
            self.dbias += d2.sum(axis=0)  # db = sum over rows
        return dout @ self.weight.T  # dx = dout W^T, (..., fan_in)
        # end exercise


class BatchNorm1d(Layer):
    """Batch normalization (Ioffe & Szegedy 2015, Alg. 1) over all axes but the last.

    Input (N, C) or (N, L, C) (lecture 5 keeps channels last, so a 3-D input is normalized
    over its first two axes). Training mode normalizes with the batch mean and variance and
    updates the running statistics with `momentum`, storing the unbiased variance; eval mode
    normalizes with the running statistics.

    The batch variance is the biased one (divided by N), as in the paper and `nn.BatchNorm1d`,
    unless `unbiased`: then it is divided by N - 1, as the lectures' BatchNorm does (it calls
    torch's `std`/`var`, which apply Bessel's correction), so training normalizes with the same
    estimate that the running statistics store and eval mode uses (lecture 4 discusses the
    train/eval mismatch the biased version leaves).
    """

    param_names = ("gamma", "beta")

    def __init__(self, dim: int, eps: float = 1e-5, momentum: float = 0.1, dtype=np.float32, unbiased: bool = False):
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        if eps <= 0:
            raise ValueError(f"eps must be positive, got {eps}")
        self.eps, self.momentum, self.unbiased = eps, momentum, unbiased
        self.gamma = np.ones(dim, dtype)
        self.beta = np.zeros(dim, dtype)
        self.dgamma = np.zeros_like(self.gamma)
        self.dbeta = np.zeros_like(self.beta)
        self.running_mean = np.zeros(dim, dtype)
        self.running_var = np.ones(dim, dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.ndim not in (2, 3) or x.shape[-1] != self.gamma.shape[0]:
            raise ValueError(f"BatchNorm1d({self.gamma.shape[0]}) expects (N, C) or (N, L, C), got shape {x.shape}")
        shape, x = x.shape, x.reshape(-1, x.shape[-1])  # (N, C) view: statistics over all but channels
        if self.training:
            n = x.shape[0]
            if n < 2:
                raise ValueError("BatchNorm1d in training mode needs more than one value per channel")
            mean = x.mean(axis=0)  # (C,)
            xc = x - mean  # (..., C)
            var = np.einsum("nc,nc->c", xc, xc) / (n - 1 if self.unbiased else n)  # (C,)
            invstd = 1.0 / np.sqrt(var + self.eps)  # (C,)
            xhat = xc * invstd  # (..., C)
            m = self.momentum
            self.running_mean *= 1 - m
            self.running_mean += m * mean
            self.running_var *= 1 - m
            self.running_var += (m if self.unbiased else m * n / (n - 1)) * var  # the unbiased variance
        else:
            invstd = 1.0 / np.sqrt(self.running_var + self.eps)
            xhat = (x - self.running_mean) * invstd
        self.xhat, self.invstd = xhat, invstd
        out = xhat * self.gamma
        out += self.beta
        return out.reshape(shape)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        xhat, invstd = self.xhat, self.invstd  # (N, C), (C,)
        shape, dout = dout.shape, dout.reshape(xhat.shape)  # (N, C) view
        n = xhat.shape[0]
        dbeta = dout.sum(axis=0)  # (C,)
        dxhat_dot = np.einsum("nc,nc->c", dout, xhat)  # sum(dout * xhat) = dgamma, (C,)
        self.dbeta += dbeta
        self.dgamma += dxhat_dot
        if not self.training:  # eval mode: the statistics are constants
            return (dout * (self.gamma * invstd)).reshape(shape)
        # Training mode (lecture 4, "exercise 3"):
        # dx = gamma*invstd/n * (n*dout - sum(dout) - c*xhat*sum(dout*xhat)),
        # with c = n/(n-1) when the variance has Bessel's correction and c = 1 without.
        # exercise: batchnorm_backward: dx in one expression from dout, xhat, invstd, gamma, n (README 5., lecture 4)
        scale = self.gamma * invstd / n  # (C,)
        correction = n / (n - 1) if self.unbiased else 1.0
        dx = dout * n
        dx -= dbeta
        dx -= xhat * (dxhat_dot * correction)
        dx *= scale
        return dx.reshape(shape)
        # end exercise

    def buffers(self):
        return {"running_mean": self.running_mean, "running_var": self.running_var}


class Tanh(Layer):
    """out = tanh(x); dx = dout * (1 - out^2)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.dout = dout  # kept (a reference, no copy) for lecture 3's gradient histograms
        # exercise: tanh_backward: dx = dout * (1 - tanh(x)^2), from the saved output self.out (README 5.)
        dx = self.out * self.out
        np.subtract(1.0, dx, out=dx)
        dx *= dout
        return dx
        # end exercise


class FlattenConsecutive(Layer):
    """(B, T, C) -> (B, T/n, n*C): concatenate n consecutive positions (lecture 5's WaveNet-style fusion).

    When T/n is 1 the middle axis is dropped, giving (B, n*C). The backward is the inverse reshape.
    """

    def __init__(self, n: int):
        if n < 1:
            raise ValueError(f"FlattenConsecutive needs n >= 1, got {n}")
        self.n = n

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 3 or x.shape[1] % self.n:
            raise ValueError(
                f"FlattenConsecutive({self.n}) expects (B, T, C) with T divisible by {self.n}, got {x.shape}"
            )
        B, T, C = x.shape
        self.in_shape = x.shape
        out = x.reshape(B, T // self.n, C * self.n)
        return out[:, 0, :] if T // self.n == 1 else out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout.reshape(self.in_shape)


class Sequential(Layer):
    """Layers applied in order; the backward runs them in reverse. Parameter names are 'index.name'."""

    def __init__(self, layers: list[Layer]):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def _collect(self, what: str) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in getattr(layer, what)().items()}

    def parameters(self):
        return self._collect("parameters")

    def gradients(self):
        return self._collect("gradients")

    def buffers(self):
        return self._collect("buffers")

    def zero_grad(self):
        for layer in self.layers:
            layer.zero_grad()

    def train(self, mode: bool = True):
        self.training = mode
        for layer in self.layers:
            layer.train(mode)
        return self


def cross_entropy(logits: np.ndarray, targets: np.ndarray, ignore_index: int | None = None) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood of `targets` under softmax(`logits`), and its gradient.

    logits (N, V), targets (N,) ints. Targets equal to `ignore_index` count neither in the
    mean nor in the gradient (makemore.py masks padding with -1). The gradient of the fused
    softmax + NLL is (softmax - onehot) / N (lecture 4, exercise 2).
    """
    N = logits.shape[0]
    if targets.shape != (N,):
        raise ValueError(f"targets must have shape ({N},), got {targets.shape}")
    rows = np.arange(N)
    if ignore_index is not None:
        keep = targets != ignore_index
        count = int(keep.sum())
        safe = np.where(keep, targets, 0)
    else:
        keep, count, safe = None, N, targets
    shifted = logits - logits.max(axis=1, keepdims=True)  # (N, V), for numerical stability
    probs = np.exp(shifted)
    sums = probs.sum(axis=1, keepdims=True)  # (N, 1)
    logp_target = shifted[rows, safe] - np.log(sums[:, 0])  # (N,)
    if keep is not None:
        logp_target = logp_target[keep]
    denominator = max(count, 1)
    # exercise: cross_entropy_backward: make probs dlogits = (softmax - onehot) / count, 0 on ignored rows (README 5.)
    probs /= sums  # softmax, reused as the gradient buffer
    probs[rows, safe] -= 1.0
    if keep is not None:
        probs *= keep[:, None]
    probs *= 1.0 / denominator
    # end exercise
    return float(-logp_target.sum() / denominator), probs


def _sigmoid(x):
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # numerically safe logistic


class _RecurrentCell(Layer):
    """Shared bookkeeping: saved activations are pushed per step by `forward` and popped by `backward`.

    Call `reset()` before a new sequence; then `forward(x_t, h_prev)` for t = 1..T, then
    `backward(dh_t)` for t = T..1 (backpropagation through time: the caller adds the gradient
    flowing from step t+1 to the gradient from the output at step t). Parameter gradients
    accumulate over the steps, as every layer's do (call `zero_grad()` before a new backward).
    """

    def reset(self):
        self.cache = []


class RNNCell(_RecurrentCell):
    """h_t = tanh([x_t, h_{t-1}] @ W + b): makemore.py's RNNCell (Elman 1990)."""

    param_names = ("weight", "bias")

    def __init__(self, input_size: int, hidden_size: int, rng=None, dtype=np.float32):
        rng = make_rng(rng)
        fan_in = input_size + hidden_size
        bound = fan_in**-0.5  # nn.Linear's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight = rng.uniform(-bound, bound, (fan_in, hidden_size)).astype(dtype)
        self.bias = rng.uniform(-bound, bound, hidden_size).astype(dtype)
        self.dweight, self.dbias = np.zeros_like(self.weight), np.zeros_like(self.bias)
        self.reset()

    def forward(self, x, h):
        xh = np.concatenate([x, h], axis=1)  # (B, E + H)
        out = np.tanh(xh @ self.weight + self.bias)  # (B, H)
        self.cache.append((xh, out))
        return out

    def backward(self, dh):
        xh, out = self.cache.pop()
        da = dh * (1.0 - out * out)  # through tanh
        self.dweight += xh.T @ da
        self.dbias += da.sum(axis=0)
        dxh = da @ self.weight.T
        return dxh[:, : self.input_size], dxh[:, self.input_size :]  # dx_t, dh_{t-1}


class GRUActivations(NamedTuple):
    """What one GRU step saves for its backward (each (B, E + H) or (B, H))."""

    xh: np.ndarray  # [x_t, h_{t-1}], the input of the r and z gates
    xhr: np.ndarray  # [x_t, r * h_{t-1}], the input of the candidate
    h: np.ndarray  # h_{t-1}
    r: np.ndarray  # reset gate
    hbar: np.ndarray  # candidate state
    z: np.ndarray  # update gate


class GRUCell(_RecurrentCell):
    """makemore.py's GRU cell (Cho et al. 2014, with the reset gate applied before the matmul).

    r = sigmoid([x, h] @ Wr + br)         reset gate
    hbar = tanh([x, r * h] @ Wh + bh)     candidate
    z = sigmoid([x, h] @ Wz + bz)         update gate
    h' = (1 - z) * h + z * hbar
    """

    param_names = ("w_r", "b_r", "w_hbar", "b_hbar", "w_z", "b_z")

    def __init__(self, input_size: int, hidden_size: int, rng=None, dtype=np.float32):
        rng = make_rng(rng)
        fan_in = input_size + hidden_size
        bound = fan_in**-0.5
        self.input_size, self.hidden_size = input_size, hidden_size
        for gate in ("r", "hbar", "z"):  # nn.Linear's default init, drawn in this order
            setattr(self, f"w_{gate}", rng.uniform(-bound, bound, (fan_in, hidden_size)).astype(dtype))
            setattr(self, f"b_{gate}", rng.uniform(-bound, bound, hidden_size).astype(dtype))
        for name in self.param_names:
            setattr(self, "d" + name, np.zeros_like(getattr(self, name)))
        self.reset()

    def forward(self, x, h):
        xh = np.concatenate([x, h], axis=1)  # (B, E + H)
        r = _sigmoid(xh @ self.w_r + self.b_r)  # (B, H)
        xhr = np.concatenate([x, r * h], axis=1)  # (B, E + H)
        hbar = np.tanh(xhr @ self.w_hbar + self.b_hbar)  # (B, H)
        z = _sigmoid(xh @ self.w_z + self.b_z)  # (B, H)
        out = h + z * (hbar - h)  # (1 - z) * h + z * hbar
        self.cache.append(GRUActivations(xh, xhr, h, r, hbar, z))
        return out

    def backward(self, dout):
        # exercise: gru_step_backward: one step back: add the 6 parameter gradients, return (dx_t, dh_{t-1}) (README 7.)
        E = self.input_size
        a = self.cache.pop()
        dh = dout * (1.0 - a.z)  # direct path h -> h'
        dz_pre = dout * (a.hbar - a.h) * a.z * (1.0 - a.z)  # through z's sigmoid
        dhbar_pre = dout * a.z * (1.0 - a.hbar * a.hbar)  # through the candidate's tanh
        self.dw_z += a.xh.T @ dz_pre
        self.db_z += dz_pre.sum(axis=0)
        self.dw_hbar += a.xhr.T @ dhbar_pre
        self.db_hbar += dhbar_pre.sum(axis=0)
        dxhr = dhbar_pre @ self.w_hbar.T  # (B, E + H)
        dx = dxhr[:, :E].copy()
        drh = dxhr[:, E:]  # gradient of r * h
        dh += drh * a.r
        dr_pre = drh * a.h * a.r * (1.0 - a.r)
        self.dw_r += a.xh.T @ dr_pre
        self.db_r += dr_pre.sum(axis=0)
        dxh = dz_pre @ self.w_z.T + dr_pre @ self.w_r.T  # (B, E + H)
        dx += dxh[:, :E]
        dh += dxh[:, E:]
        return dx, dh
        # end exercise
