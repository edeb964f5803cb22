"""The small networks the experiments train: layers with hand-written backward passes, losses, three models.

The contract (02_mlp's layer contract, `mlp/layers.py`, followed here):

- `Parameter` holds `.data` and `.grad`, NumPy arrays of one shape and dtype; the optimizers in optim.py
  read `.grad` and update `.data` in place;
- a layer has `forward(x) -> y`, which remembers what the backward pass needs, and `backward(dy) -> dx`,
  which takes dL/dy, returns dL/dx and ADDS dL/dparam into each parameter's `.grad` (never overwrites it),
  as PyTorch does; so call `optimizer.zero_grad()` before each backward pass;
- a layer or model lists its parameters in the attribute `params` (02's layers have a `parameters()`
  method instead: the one difference); batches are rows, (B, features); float32 by default.

This file is not a copy of 02's `layers.py`: it is a smaller re-implementation, written for this folder,
of only what the Adam paper's experiments need (Section 6), under the same contract: a Linear layer, ReLU,
(inverted) dropout, softmax cross-entropy, sigmoid + binary cross-entropy, and three models built from
them: L2-regularised multiclass logistic regression (Section 6.1), a 784-1000-1000-10 ReLU MLP with
dropout (Section 6.2) and a small autoencoder (our stand-in for the VAE of Section 6.4). It imports only
NumPy and the standard library, so it can be copied alone. Every backward is checked against finite
differences in tests/test_nn.py.
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = [
    "Dropout",
    "Linear",
    "LogisticRegression",
    "Parameter",
    "ReLU",
    "Sequential",
    "autoencoder",
    "mlp",
    "sigmoid_binary_cross_entropy",
    "softmax_cross_entropy",
]  # fmt: skip


class Parameter:
    """An array and its gradient (the 02_mlp convention the optimizers expect)."""

    def __init__(self, data: np.ndarray):
        self.data = data
        self.grad = np.zeros_like(data)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Linear:
    """y = x W + b, with W (in, out) initialised He-normal (std sqrt(2 / in)) or to zero."""

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator | None = None, dtype=np.float32):
        if rng is None:
            weight = np.zeros((n_in, n_out), dtype=dtype)
        else:
            weight = (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(dtype)
        self.W = Parameter(weight)  # (in, out)
        self.b = Parameter(np.zeros(n_out, dtype=dtype))  # (out,)
        self.params = [self.W, self.b]

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 2 or x.shape[1] != self.W.data.shape[0]:
            raise ValueError(f"Linear expects input (B, {self.W.data.shape[0]}), got {x.shape}")
        self.x = x  # (B, in)
        return x @ self.W.data + self.b.data  # (B, out)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        self.W.grad += self.x.T @ dy  # (in, out)
        self.b.grad += dy.sum(axis=0)  # (out,)
        return dy @ self.W.data.T  # (B, in)


class ReLU:
    params = ()  # nothing to learn

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x > 0
        return x * self.mask

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * self.mask


class Dropout:
    """Inverted dropout: zero each unit with probability p while training, scale the rest by 1 / (1 - p)."""

    params = ()  # nothing to learn

    def __init__(self, p: float, rng: np.random.Generator):
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p, self.rng, self.training = p, rng, True

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0:
            self.scale = None
            return x
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.p
        self.scale = keep.astype(x.dtype) / (1 - self.p)  # (B, C)
        return x * self.scale

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy if self.scale is None else dy * self.scale


class Sequential:
    """Layers applied in order; `params` lists every layer's parameters."""

    def __init__(self, *layers):
        self.layers = list(layers)
        self.params = [param for layer in self.layers for param in layer.params]

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy

    def train(self, mode: bool = True) -> Sequential:
        for layer in self.layers:
            if isinstance(layer, Dropout):
                layer.training = mode
        return self


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of integer `labels` (B,) under softmax(`logits`) (B, K), and d loss / d logits."""
    if logits.ndim != 2 or labels.shape != (logits.shape[0],):
        raise ValueError(f"softmax_cross_entropy: logits (B, K) and labels (B,), got {logits.shape}, {labels.shape}")
    B = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)  # (B, K), for stability
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (B, K)
    loss = -log_probs[np.arange(B), labels].mean()
    dlogits = np.exp(log_probs)  # softmax - one_hot, over B
    dlogits[np.arange(B), labels] -= 1
    return float(loss), dlogits / B


def sigmoid_binary_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Binary cross-entropy of `targets` in [0, 1] under sigmoid(`logits`), summed over features, mean over batch.

    log(1 + e^z) - t z is the stable form of -t log s(z) - (1 - t) log(1 - s(z)); its gradient is s(z) - t.
    """
    if logits.shape != targets.shape:
        raise ValueError(f"sigmoid_binary_cross_entropy: logits {logits.shape} and targets {targets.shape} differ")
    B = logits.shape[0]
    loss = (np.logaddexp(0, logits) - targets * logits).sum() / B
    sigmoid = 0.5 * (1 + np.tanh(0.5 * logits))  # = 1 / (1 + e^-z), without overflow
    dlogits = (sigmoid - targets) / B  # (B, D)
    return float(loss), dlogits.astype(logits.dtype, copy=False)


class LogisticRegression:
    """Multiclass logistic regression with an L2 penalty (Section 6.1): cost = CE(x W + b, y) + l2/2 |W|^2."""

    def __init__(self, n_in: int = 784, n_classes: int = 10, l2: float = 1e-4, dtype=np.float32):
        if not l2 >= 0:  # also refuses NaN
            raise ValueError(f"LogisticRegression: l2 must be >= 0, got {l2}")
        self.linear = Linear(n_in, n_classes, rng=None, dtype=dtype)  # convex: zero init is fine
        self.l2 = l2
        self.params = self.linear.params

    def cost(self, x: np.ndarray, y: np.ndarray) -> float:
        loss, _ = softmax_cross_entropy(self.linear.forward(x), y)
        return loss + 0.5 * self.l2 * float((self.linear.W.data.astype(np.float64) ** 2).sum())

    def loss_and_backward(self, x: np.ndarray, y: np.ndarray) -> float:
        W = self.linear.W
        loss, dlogits = softmax_cross_entropy(self.linear.forward(x), y)
        self.linear.backward(dlogits)
        W.grad += self.l2 * W.data
        return loss + 0.5 * self.l2 * float((W.data.astype(np.float64) ** 2).sum())


def mlp(rng: np.random.Generator, sizes=(784, 1000, 1000, 10), dropout: float = 0.5, dtype=np.float32) -> Sequential:
    """The Section 6.2 network: fully connected ReLU layers, dropout after each hidden layer."""
    layers: list = []
    for index, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(Linear(n_in, n_out, rng, dtype))
        if index < len(sizes) - 2:
            layers += [ReLU(), Dropout(dropout, rng)] if dropout > 0 else [ReLU()]
    return Sequential(*layers)


def autoencoder(rng: np.random.Generator, sizes=(784, 128, 32, 128, 784), dtype=np.float32) -> Sequential:
    """A small ReLU autoencoder; the last layer gives logits of the reconstructed pixels."""
    if sizes[0] != sizes[-1]:
        raise ValueError(f"autoencoder: input and output sizes differ: {sizes}")
    return mlp(rng, sizes, dropout=0.0, dtype=dtype)
