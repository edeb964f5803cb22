"""Layers with hand-derived, vectorized backward passes, and the one contract they all keep.

The contract (the style of the Deep Learning Specialization's "step by step" network and
cs231n's layers: an explicit forward and backward per layer, the cache kept by the layer;
with PyTorch's names, so the step reads like `loss.backward(); optimizer.step()`):

- `Parameter` holds `.data` and `.grad`, NumPy arrays of the same shape and dtype.
- A layer (`Module`) has `forward(x) -> y` (also `layer(x)`) and `backward(dy) -> dx`.
  `forward` remembers what `backward` needs; `backward` takes dL/dy and returns dL/dx, and
  ADDS dL/dparam into each parameter's `.grad` (never overwrites it), so a parameter used
  twice collects both contributions, exactly as the chain rule's sum says. Call
  `zero_grad()` (on the optimizer or the model) before each backward pass.
- `parameters()` lists the layer's Parameters; `named_parameters()` gives them stable names
  (checkpoints use them).
- `train()` / `eval()` switch the behaviour of layers that differ between the two (Dropout).
- float32 by default; everything also works in float64 (the gradient checks run in float64).

This file imports only NumPy and the standard library, so it can be copied out whole. No
other folder imports it (folders stand alone); 05_adam writes the same contract again, in
smaller form, in its own `adam/nn.py`, because its optimizers take `.data`/`.grad` Parameters.

Shapes: a batch is a 2-D array (N, D): N examples, D features each. Vectors are rows, so
a Linear layer computes `y = x @ W + b` with W of shape (fan_in, fan_out).

What this module does not do: automatic differentiation (there is no graph; `Sequential`
simply calls `backward` in reverse order), convolution, or anything beyond 2-D inputs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

__all__ = [
    "INITS",
    "Dropout",
    "Linear",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "make_mlp",
]

INITS = ("he", "xavier")


def _rng(seed: np.random.Generator | int | None) -> np.random.Generator:
    """A Generator from a seed (or the Generator itself), so this file needs only NumPy."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"rng must be an int seed, a numpy Generator or None, got {type(seed).__name__}")
    if seed is not None and seed < 0:
        raise ValueError(f"a seed must be non-negative, got {seed}")
    return np.random.default_rng(seed)


class Parameter:
    """A trainable array and the gradient of the loss with respect to it."""

    def __init__(self, data: np.ndarray):
        self.data = data
        self.grad = np.zeros_like(data)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    def zero_grad(self) -> None:
        self.grad.fill(0.0)  # in place: optimizers may hold references to .grad

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class: a layer or a stack of layers with forward, backward and parameters."""

    training: bool = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        """y for a batch x; remembers what `backward` will need."""
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """dL/dx from dL/dy (same shapes as x and y); ADDS dL/dparam into each Parameter.grad."""
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        return iter(())

    def parameters(self) -> list[Parameter]:
        return [parameter for _, parameter in self.named_parameters()]

    def zero_grad(self) -> None:
        for parameter in self.parameters():
            parameter.zero_grad()

    def train(self, mode: bool = True) -> Module:
        self.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def _saved(self, value, name: str = "input"):
        if value is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward (no saved {name})")
        return value


def _check_batch(x: np.ndarray, layer: str) -> None:
    if not isinstance(x, np.ndarray) or x.ndim != 2:
        shape = getattr(x, "shape", type(x).__name__)
        raise ValueError(f"{layer} expects a 2-D batch (N, features), got {shape}")


class Linear(Module):
    """Affine map y = x @ W + b, W (fan_in, fan_out), b (fan_out,).

    Initialisation keeps the variance of the signal roughly constant from layer to layer:
    - "he" (He et al. 2015, eq. 10): W ~ N(0, 2 / fan_in), for ReLU networks, because ReLU
      zeroes half of its inputs and so halves the variance;
    - "xavier" (Glorot & Bengio 2010, eq. 16): W ~ U(-a, a), a = sqrt(6 / (fan_in + fan_out)),
      for tanh/sigmoid networks, a compromise between the forward and backward variances.
    The bias starts at zero.

    `input_grad=False` makes `backward` skip dL/dx (returns None): for the first layer, whose
    input is data, that product is wasted work (PyTorch skips it too).
    """

    def __init__(
        self,
        fan_in: int,
        fan_out: int,
        init: str = "he",
        rng: np.random.Generator | int | None = 0,
        dtype=np.float32,
        input_grad: bool = True,
    ):
        if int(fan_in) != fan_in or int(fan_out) != fan_out or fan_in < 1 or fan_out < 1:
            raise ValueError(f"Linear needs positive integer sizes, got fan_in={fan_in}, fan_out={fan_out}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        self.fan_in, self.fan_out, self.init = int(fan_in), int(fan_out), init
        self.input_grad = input_grad
        rng = _rng(rng)
        if init == "he":
            W = rng.standard_normal((self.fan_in, self.fan_out)) * np.sqrt(2.0 / self.fan_in)
        else:
            limit = np.sqrt(6.0 / (self.fan_in + self.fan_out))
            W = rng.uniform(-limit, limit, (self.fan_in, self.fan_out))
        self.W = Parameter(W.astype(dtype))
        self.b = Parameter(np.zeros(self.fan_out, dtype=dtype))
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        _check_batch(x, repr(self))
        if x.shape[1] != self.fan_in:
            raise ValueError(f"{self!r} expects input of shape (N, {self.fan_in}), got {x.shape}")
        if x.dtype != self.W.data.dtype:
            raise TypeError(
                f"{self!r} has {self.W.data.dtype} weights but got {x.dtype} input; convert the input "
                f"(x.astype(np.{self.W.data.dtype})) or build the model with that dtype"
            )
        self._x = x  # (N, fan_in), kept for dW
        y = x @ self.W.data  # (N, fan_out)
        y += self.b.data  # broadcast over the batch, in place
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        # y_nj = sum_i x_ni W_ij + b_j, so (see README):
        #   dL/dW = x^T dy   (fan_in, fan_out): sums over the batch
        #   dL/db = sum_n dy (fan_out,)
        #   dL/dx = dy W^T   (N, fan_in)
        # exercise: linear_backward: add dW, db into .grad; return dx (or None); README "The backward passes, derived"
        x = self._saved(self._x)
        self.W.grad += x.T @ dy  # (fan_in, N) @ (N, fan_out)
        self.b.grad += dy.sum(axis=0)  # (fan_out,)
        if not self.input_grad:
            return None
        return dy @ self.W.data.T  # (N, fan_out) @ (fan_out, fan_in)
        # end exercise

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        yield "W", self.W
        yield "b", self.b

    def __repr__(self) -> str:
        return f"Linear({self.fan_in} -> {self.fan_out})"


class ReLU(Module):
    """y = max(x, 0); dy/dx = 1 where x > 0, else 0 (we take 0 at x = 0, like PyTorch)."""

    def __init__(self):
        self._y: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = np.maximum(x, 0)  # the output alone tells where the unit was active
        return self._y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        # exercise: relu_backward: dx from dy and the saved output y = max(x, 0); README "The backward passes, derived"
        y = self._saved(self._y, "output")
        return dy * (y > 0)  # (N, D); a multiply by the boolean mask is ~10x faster than np.where
        # end exercise

    def __repr__(self) -> str:
        return "ReLU()"


class Tanh(Module):
    """y = tanh(x); dy/dx = 1 - y^2 (written in terms of the saved output)."""

    def __init__(self):
        self._y: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = np.tanh(x)
        return self._y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        # exercise: tanh_backward: dx from dy and the saved output y = tanh(x); README "The backward passes, derived"
        y = self._saved(self._y, "output")
        return dy * (1 - y * y)
        # end exercise

    def __repr__(self) -> str:
        return "Tanh()"


class Sigmoid(Module):
    """y = 1 / (1 + exp(-x)); dy/dx = y (1 - y).

    Computed as exp(-|x|) so that no exponent is ever positive: no overflow at x = -1000.
    """

    def __init__(self):
        self._y: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        e = np.exp(-np.abs(x))  # in (0, 1]
        self._y = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        return self._y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        y = self._saved(self._y, "output")
        return dy * y * (1 - y)

    def __repr__(self) -> str:
        return "Sigmoid()"


class Dropout(Module):
    """Inverted dropout (Srivastava et al. 2014; "inverted" as in cs231n and PyTorch).

    In training each activation is zeroed with probability p and the survivors are scaled
    by 1 / (1 - p), so the expected activation is unchanged and evaluation needs no
    rescaling: in eval mode the layer is the identity. The backward pass multiplies by
    the same mask (zeros and 1 / (1 - p)) that the forward pass drew.
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | int | None = 0):
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = float(p)
        self.rng = _rng(rng)
        self._mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0.0:
            self._mask = None
            return x
        keep = self.rng.random(x.shape, dtype=np.float64 if x.dtype == np.float64 else np.float32) >= self.p
        self._mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.p))  # (N, D)
        return x * self._mask

    def backward(self, dy: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0.0:
            return dy
        return dy * self._saved(self._mask, "mask")

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


class Sequential(Module):
    """Layers applied in order; backward runs them in reverse (the chain rule)."""

    def __init__(self, *layers: Module):
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        # exercise: sequential_backward: call each layer's backward, last first; README "Shapes, one step of training"
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
            if dy is None:  # a layer that does not propagate to its input ends the pass
                break
        return dy
        # end exercise

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        for index, layer in enumerate(self.layers):
            for name, parameter in layer.named_parameters():
                yield f"{index}.{name}", parameter

    def train(self, mode: bool = True) -> Sequential:
        self.training = mode
        for layer in self.layers:
            layer.train(mode)
        return self

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"


_ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


def make_mlp(
    in_features: int,
    hidden: list[int] | tuple[int, ...],
    out_features: int,
    activation: str = "relu",
    dropout: float = 0.0,
    init: str | None = None,
    rng: np.random.Generator | int | None = 0,
    dtype=np.float32,
    input_grad: bool = False,
) -> Sequential:
    """Linear -> act [-> Dropout] -> ... -> Linear: a multilayer perceptron.

    `hidden=[]` gives softmax regression (one Linear layer; the softmax lives in the loss).
    `init` defaults to He for ReLU and Xavier for tanh/sigmoid. `input_grad=False` (the
    default) skips the gradient with respect to the input images, which nobody needs.
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    if any(int(h) != h or h < 1 for h in hidden):
        raise ValueError(f"hidden sizes must be positive integers, got {list(hidden)}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {dropout}")
    init = init or ("he" if activation == "relu" else "xavier")
    rng = _rng(rng)
    sizes = [in_features, *hidden, out_features]
    layers: list[Module] = []
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(Linear(fan_in, fan_out, init=init, rng=rng, dtype=dtype, input_grad=input_grad or index > 0))
        if index < len(sizes) - 2:  # no activation after the output layer: it emits logits
            layers.append(_ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(Dropout(dropout, rng=rng))
    return Sequential(*layers)
