"""The 1989 zip code network of LeCun et al., in one file.

    input 16x16 (one plane, padded with -1, the background)
    H1   12 maps 8x8   5x5 kernels, stride 2, shared weights, one bias per unit      1,068 parameters
    H2   12 maps 4x4   5x5 kernels, stride 2, each map sees 8 of the 12 H1 maps     2,592 parameters
    H3   30 units, fully connected to H2                                            5,790 parameters
    out  10 units, fully connected to H3                                              310 parameters
    every layer: f(x) = 1.7159 tanh(2x/3); trained by MSE against +-1 targets       9,760 in total

The paper gives 1256 units, 64,660 connections and 9,760 free parameters;
`Net.stats()` recomputes them and a test checks them.

Two ways through the same weights:

- `forward_with_activations` / `backward` (and `loss_and_grads`, the two with the loss
  between them): batched, built from `layers.py`, one line per layer of the paper; what
  evaluation, the gradient checks and the tests use, and the code to read;
- `fast.FusedStep`: one example, forward and backward fused into about fifty NumPy calls
  on preallocated buffers (no allocation per step), for the paper's batch-size-1 SGD; what
  training runs. Tests check it against `loss_and_grads` and against finite differences.

All parameters live in one flat array (`params`) and all gradients in another (`grads`);
the named arrays are views into them, so an optimizer updates everything in one call.

`Config` switches on the "33 years later" changes of karpathy's modern.py that live in the
model (ReLU, a linear output with softmax cross-entropy, dropout before H3); the optimizer
and the augmentation live in `optim.py` and `train.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import layers
from .layers import TANH_A, TANH_S

__all__ = [
    "CANVAS_PAD",
    "H2_PLANES",
    "Activations",
    "Config",
    "Net",
    "h2_connection_mask",
    "layout_views",
    "make_canvas",
    "shift_images",
]

H2_PLANES = (  # which H1 planes each group of 4 H2 maps sees (the paper leaves the scheme open)
    (0, 1, 2, 3, 4, 5, 6, 7),  # H2 maps 0-3
    (4, 5, 6, 7, 8, 9, 10, 11),  # H2 maps 4-7
    (0, 1, 2, 3, 8, 9, 10, 11),  # H2 maps 8-11
)
PAD_VALUE = -1.0  # padding is background: -1 for the input, and the same for H1's maps (as in the repro)
CANVAS_PAD = 3  # images live on a 22x22 canvas of -1: the padded and shifted inputs are gathers from it

# name, shape; the order is the layout of the flat parameter vector (and of checkpoints)
LAYOUT = (
    ("H1.weight", (12, 1, 5, 5)),
    ("H1.bias", (12, 8, 8)),  # one bias per unit, not per map (as the paper counts them)
    ("H2.weight", (12, 8, 5, 5)),
    ("H2.bias", (12, 4, 4)),
    ("H3.weight", (192, 30)),
    ("H3.bias", (30,)),
    ("out.weight", (30, 10)),
    ("out.bias", (10,)),
)
FAN_IN = {"H1": 5 * 5 * 1, "H2": 5 * 5 * 8, "H3": 12 * 4 * 4, "out": 30}


N_PARAMETERS = sum(math.prod(shape) for _, shape in LAYOUT)


def layout_views(flat: np.ndarray) -> dict[str, np.ndarray]:
    """name -> view into a flat (9760,) array laid out as LAYOUT (parameters, gradients, Hessian)."""
    views, offset = {}, 0
    for name, shape in LAYOUT:
        size = math.prod(shape)
        views[name] = flat[offset : offset + size].reshape(shape)
        offset += size
    return views


def h2_connection_mask() -> np.ndarray:
    """(12, 12) bool: mask[o, c] says whether H2 map o sees H1 map c."""
    # exercise: connection_scheme: mask[o, c] True where H2 map o sees H1 map c (README "The 1989 connections")
    mask = np.zeros((12, 12), dtype=bool)
    for group, planes in enumerate(H2_PLANES):
        mask[4 * group : 4 * group + 4, list(planes)] = True
    return mask
    # end exercise


@dataclass(frozen=True)
class Config:
    """What can change between the 1989 network and the modern variant (model side only)."""

    activation: str = "tanh"  # hidden units: "tanh" (1.7159 tanh(2x/3), the paper) or "relu"
    output: str = "tanh"  # "tanh": scaled tanh + MSE to +-1 targets (paper); "linear": logits + softmax CE
    dropout: float = 0.0  # dropout probability on H2's outputs (the input of H3, the biggest layer)
    output_bias: float = -1.0  # initial output bias: 9 of 10 targets are -1 (the repro's choice)
    tanh: str = "scaled"  # every tanh: "scaled" 1.7159 tanh(2x/3) (the paper) or "plain" tanh(x) (the repro)

    def __post_init__(self):
        if self.activation not in ("tanh", "relu"):
            raise ValueError(f"activation must be 'tanh' or 'relu', got {self.activation!r}")
        if self.output not in ("tanh", "linear"):
            raise ValueError(f"output must be 'tanh' (MSE) or 'linear' (softmax cross-entropy), got {self.output!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.tanh not in ("scaled", "plain"):
            raise ValueError(f"tanh must be 'scaled' or 'plain', got {self.tanh!r}")
        if not math.isfinite(self.output_bias):
            raise ValueError(f"output_bias must be finite, got {self.output_bias}")


def make_canvas(images: np.ndarray, dtype=np.float32) -> np.ndarray:
    """(N, 16, 16) images -> (N, 22*22) flat canvases: each image inside a border of -1."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (16, 16):
        raise ValueError(f"expected images of shape (N, 16, 16), got {images.shape}")
    side = 16 + 2 * CANVAS_PAD
    canvas = np.full((len(images), side, side), PAD_VALUE, dtype=dtype)
    canvas[:, CANVAS_PAD:-CANVAS_PAD, CANVAS_PAD:-CANVAS_PAD] = images
    return canvas.reshape(len(images), side * side)


SHIFTS = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1))  # index 4 is no shift
NO_SHIFT = 4


def shift_images(images: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Move each image by SHIFTS[shifts[n]] = (dy, dx) pixels (down, right), filling with -1."""
    side = 16 + 2 * CANVAS_PAD
    canvas = make_canvas(images, images.dtype).reshape(-1, side, side)
    out = np.empty_like(images)
    for n, s in enumerate(np.asarray(shifts)):  # tests only; training uses shifted index arrays
        dy, dx = SHIFTS[s]
        out[n] = canvas[n, CANVAS_PAD - dy : CANVAS_PAD - dy + 16, CANVAS_PAD - dx : CANVAS_PAD - dx + 16]
    return out


class Activations(NamedTuple):
    """What the backward pass needs from the forward pass, layer by layer (llm.c's ActivationTensors)."""

    conv1: layers.ConvCache  # H1's convolution: the padded input's im2col, the kernels
    h1: np.ndarray  # (N, 12, 8, 8) H1's outputs f(z1)
    conv2: layers.ConvCache  # H2's convolution over the -1-padded H1 maps, 8 of 12 planes per map
    h2: np.ndarray  # (N, 12, 4, 4) H2's outputs f(z2)
    dropout_mask: np.ndarray | None  # (N, 192) inverted-dropout mask on H2's outputs, or None
    fc3: tuple[np.ndarray, np.ndarray]  # H3's linear: its input (N, 192) and weight (192, 30)
    h3: np.ndarray  # (N, 30) H3's outputs f(z3)
    fc4: tuple[np.ndarray, np.ndarray]  # the output layer's linear: input (N, 30), weight (30, 10)
    y: np.ndarray  # (N, 10) the outputs: f(z4) (the paper) or the logits z4 (modern)


class Net:
    """The network's parameters (one flat vector) and its batched forward and backward passes."""

    def __init__(self, config: Config | None = None, rng: np.random.Generator | None = None, dtype=np.float32):
        self.config = config or Config()
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        self.params = np.zeros(N_PARAMETERS, self.dtype)  # (9760,) every parameter
        self.grads = np.zeros_like(self.params)  # (9760,) every gradient
        self.p, self.g = layout_views(self.params), layout_views(self.grads)  # name -> view
        if rng is not None:
            self.init(rng)

    # ----------------------------------------------------------------------- parameters

    def init(self, rng: np.random.Generator) -> None:
        """Weights ~ U[-2.4/sqrt(F), 2.4/sqrt(F)], F the unit's fan-in; hidden biases 0.

        The paper writes 2.4/F_i; with F = 200 that gives weights too small for
        tanh units to learn from, and the repro (like LeCun's later papers) uses sqrt(F).
        """
        for layer, fan_in in FAN_IN.items():
            weight = self.p[f"{layer}.weight"]
            bound = 2.4 / math.sqrt(fan_in)
            weight[...] = rng.uniform(-bound, bound, weight.shape)
            self.p[f"{layer}.bias"][...] = 0.0
        self.p["out.bias"][...] = self.config.output_bias

    def state_dict(self) -> dict[str, np.ndarray]:
        return {name: view.copy() for name, view in self.p.items()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy arrays into the parameters; a ValueError if names, shapes or values do not fit."""
        missing = [name for name, _ in LAYOUT if name not in state]
        if missing:
            raise ValueError(f"missing the parameters {missing}")
        unexpected = sorted(set(state) - {name for name, _ in LAYOUT})
        if unexpected:
            raise ValueError(f"holds arrays that are not parameters of the network: {unexpected}")
        for name, shape in LAYOUT:
            value = state[name]
            if value.shape != shape:
                raise ValueError(f"parameter {name} has shape {value.shape}, expected {shape}")
            if not np.issubdtype(value.dtype, np.floating) or not np.all(np.isfinite(value)):
                raise ValueError(f"parameter {name} must hold finite floats")
            self.p[name][...] = value

    def stats(self) -> dict[str, dict[str, int]]:
        """Units, connections (incoming, counting the bias) and free parameters per layer."""
        counts = {"input": {"units": 16 * 16, "connections": 0, "parameters": 0}}
        for layer, (units, fan_in) in {"H1": (12 * 8 * 8, 25), "H2": (12 * 4 * 4, 200), "H3": (30, 192)}.items():
            parameters = self.p[f"{layer}.weight"].size + self.p[f"{layer}.bias"].size
            counts[layer] = {"units": units, "connections": units * (fan_in + 1), "parameters": parameters}
        counts["out"] = {"units": 10, "connections": 10 * 31, "parameters": 310}
        keys = ("units", "connections", "parameters")
        counts["total"] = {key: sum(layer[key] for layer in counts.values()) for key in keys}
        return counts

    # ----------------------------------------------------------------------- batched, from layers.py

    @property
    def tanh_constants(self) -> tuple[float, float]:
        """(A, S) of f(x) = A tanh(S x) for every tanh of the network."""
        return (TANH_A, TANH_S) if self.config.tanh == "scaled" else (1.0, 1.0)

    def _hidden(self, z: np.ndarray):
        if self.config.activation == "tanh":
            return layers.scaled_tanh_forward(z, *self.tanh_constants)
        return layers.relu_forward(z)

    def _hidden_backward(self, dy: np.ndarray, y: np.ndarray) -> np.ndarray:
        if self.config.activation == "tanh":
            return layers.scaled_tanh_backward(dy, y, *self.tanh_constants)
        return layers.relu_backward(dy, y)

    def _check_images(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        if images.ndim != 3 or images.shape[1:] != (16, 16):
            raise ValueError(f"the network takes images of shape (N, 16, 16), got {images.shape}")
        return images.astype(self.dtype, copy=False)

    def forward(self, images: np.ndarray, dropout_mask: np.ndarray | None = None, batch_size: int = 1024):
        """Outputs (N, 10) for images (N, 16, 16): tanh outputs or logits, per `config.output`."""
        images = self._check_images(images)
        if dropout_mask is not None:
            return self.forward_with_activations(images, dropout_mask)[0]
        chunks = [
            self.forward_with_activations(images[i : i + batch_size])[0] for i in range(0, len(images), batch_size)
        ]
        return np.concatenate(chunks) if chunks else np.zeros((0, 10), self.dtype)

    def forward_with_activations(self, images: np.ndarray, dropout_mask: np.ndarray | None = None):
        """(outputs (N, 10), Activations): the forward pass, keeping what `backward` needs."""
        p = self.p
        z1, conv1 = layers.conv_forward(images[:, None], p["H1.weight"], p["H1.bias"], 2, 2, PAD_VALUE)  # (N,12,8,8)
        h1, _ = self._hidden(z1)
        z2, conv2 = layers.conv_forward(h1, p["H2.weight"], p["H2.bias"], 2, 2, PAD_VALUE, H2_PLANES)  # (N,12,4,4)
        h2, _ = self._hidden(z2)
        mask = None if dropout_mask is None else dropout_mask.reshape(h2.shape[0], -1)
        h2d, mask = layers.dropout_forward(h2.reshape(len(h2), -1), mask)  # (N, 192)
        z3, fc3 = layers.linear_forward(h2d, p["H3.weight"], p["H3.bias"])  # (N, 30)
        h3, _ = self._hidden(z3)
        z4, fc4 = layers.linear_forward(h3, p["out.weight"], p["out.bias"])  # (N, 10)
        y = layers.scaled_tanh_forward(z4, *self.tanh_constants)[0] if self.config.output == "tanh" else z4
        return y, Activations(conv1, h1, conv2, h2, mask, fc3, h3, fc4, y)

    def backward(self, dy: np.ndarray, acts: Activations) -> None:
        """Fill `self.grads` (overwriting) from dloss/doutputs (N, 10), one layer at a time, output first."""
        # exercise: network_backward: each layer's backward, output first, into self.g (README "The whole backward")
        g = self.g
        dz4 = layers.scaled_tanh_backward(dy, acts.y, *self.tanh_constants) if self.config.output == "tanh" else dy
        dh3, g["out.weight"][...], g["out.bias"][...] = layers.linear_backward(dz4, acts.fc4)  # (N, 30)
        dz3 = self._hidden_backward(dh3, acts.h3)
        dh2d, g["H3.weight"][...], g["H3.bias"][...] = layers.linear_backward(dz3, acts.fc3)  # (N, 192)
        dz2 = self._hidden_backward(layers.dropout_backward(dh2d, acts.dropout_mask).reshape(acts.h2.shape), acts.h2)
        dh1, g["H2.weight"][...], g["H2.bias"][...] = layers.conv_backward(dz2, acts.conv2)  # (N, 12, 8, 8)
        dz1 = self._hidden_backward(dh1, acts.h1)
        _, g["H1.weight"][...], g["H1.bias"][...] = layers.conv_backward(dz1, acts.conv1)
        # end exercise

    def loss(self, outputs: np.ndarray, targets: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
        """(loss, dloss/doutputs): MSE against +-1 targets, or softmax cross-entropy against labels."""
        if self.config.output == "tanh":
            return layers.mse_loss(outputs, targets.astype(outputs.dtype, copy=False))
        return layers.softmax_cross_entropy(outputs, labels)

    def loss_and_grads(self, images, targets, labels, dropout_mask=None) -> float:
        """Batched forward, loss and backward through layers.py; fills `self.grads`, returns the loss."""
        y, acts = self.forward_with_activations(self._check_images(images), dropout_mask)
        loss, dy = self.loss(y, targets, labels)
        self.backward(dy, acts)
        return loss

    def hessian_diagonal(self, images: np.ndarray) -> np.ndarray:
        """(9760,) positive estimate of the diagonal of the loss's Hessian, averaged over `images`.

        The paper's optimiser scales each weight's step by the inverse of this ("a special
        version of Newton's algorithm that uses a positive, diagonal approximation of the
        Hessian", LeCun 1987; Becker & LeCun 1988; spelled out in LeCun et al. 1998, App. C).
        Second derivatives travel backward like gradients, with every factor squared, the
        off-diagonal terms dropped and f'' ignored (the Gauss-Newton part, always >= 0):

            d2E/dy2  = 2/10 per output (MSE over 10 outputs)
            d2E/da2  = f'(a)^2 d2E/dy2                          at each unit, y = f(a)
            d2E/dw2  = sum over the connections sharing w of d2E/da2 * x^2
            d2E/dx2  = sum_j w_j^2 d2E/da_j^2                   over the units x feeds

        So each layer's ordinary backward, fed squared weights and squared inputs, computes it.
        Only for the paper's output (scaled tanh + MSE); no dropout.
        """
        if self.config.output != "tanh":
            raise ValueError("hessian_diagonal needs the MSE output (config.output 'tanh')")
        images = self._check_images(images)
        if not len(images):
            raise ValueError("hessian_diagonal needs at least one image")
        y, acts = self.forward_with_activations(images)

        def hidden_twice(d2y, out):  # a unit's backward applied twice multiplies by f'(a)^2
            return self._hidden_backward(self._hidden_backward(d2y, out), out)

        def square_linear(cache):
            x, w = cache
            return x * x, w * w

        def square_conv(cache: layers.ConvCache) -> layers.ConvCache:
            return cache._replace(w=cache.w * cache.w, cols=cache.cols * cache.cols)

        hessian = np.zeros_like(self.params)
        h = layout_views(hessian)
        d2y = np.full(y.shape, 0.2 / len(images), self.dtype)  # (N, 10): per example 2/10, averaged over N
        A, S = self.tanh_constants
        d2z4 = layers.scaled_tanh_backward(layers.scaled_tanh_backward(d2y, y, A, S), y, A, S)  # (N, 10)
        d2h3, h["out.weight"][...], h["out.bias"][...] = layers.linear_backward(d2z4, square_linear(acts.fc4))
        d2z3 = hidden_twice(d2h3, acts.h3)  # (N, 30)
        d2h2, h["H3.weight"][...], h["H3.bias"][...] = layers.linear_backward(d2z3, square_linear(acts.fc3))
        d2z2 = hidden_twice(d2h2.reshape(acts.h2.shape), acts.h2)  # (N, 12, 4, 4)
        d2h1, h["H2.weight"][...], h["H2.bias"][...] = layers.conv_backward(d2z2, square_conv(acts.conv2))
        d2z1 = hidden_twice(d2h1, acts.h1)  # (N, 12, 8, 8)
        _, h["H1.weight"][...], h["H1.bias"][...] = layers.conv_backward(d2z1, square_conv(acts.conv1))
        return hessian
