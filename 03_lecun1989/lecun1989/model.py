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

- `forward` / `loss_and_grads`: batched, built from `layers.py` (readable; used for
  evaluation, gradient checks and tests);
- `step`: one example, forward and backward fused into about fifty NumPy calls on
  preallocated buffers (no allocation per step), for the paper's batch-size-1 SGD. Tests
  check it against `loss_and_grads` and against finite differences.

All parameters live in one flat array (`params`) and all gradients in another (`grads`);
the named arrays are views into them, so an optimizer updates everything in one call.

`Config` switches on the "33 years later" changes of karpathy's modern.py that live in the
model (ReLU, a linear output with softmax cross-entropy, dropout before H3); the optimizer
and the augmentation live in `optim.py` and `train.py`.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import layers
from .data import DataFormatError, load_npz, save_npz
from .layers import TANH_A, TANH_S

__all__ = [
    "CANVAS_PAD",
    "H2_PLANES",
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
    mask = np.zeros((12, 12), dtype=bool)
    for group, planes in enumerate(H2_PLANES):
        mask[4 * group : 4 * group + 4, list(planes)] = True
    return mask


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


class Net:
    """The network's parameters, its batched forward/backward, and the fused batch-size-1 step."""

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
        self._build_step()

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
        """Copy arrays into the parameters; a DataFormatError if names or shapes differ."""
        missing = [name for name, _ in LAYOUT if name not in state]
        if missing:
            raise DataFormatError(f"checkpoint is missing the parameters {missing}")
        for name, shape in LAYOUT:
            value = state[name]
            if value.shape != shape:
                raise DataFormatError(f"parameter {name} has shape {value.shape} in the checkpoint, expected {shape}")
            if not np.issubdtype(value.dtype, np.floating) or not np.all(np.isfinite(value)):
                raise DataFormatError(f"parameter {name} must hold finite floats")
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
            return self._forward(images, dropout_mask)[0]
        chunks = [self._forward(images[i : i + batch_size])[0] for i in range(0, len(images), batch_size)]
        return np.concatenate(chunks) if chunks else np.zeros((0, 10), self.dtype)

    def _forward(self, images: np.ndarray, dropout_mask: np.ndarray | None = None):
        p = self.p
        z1, c1 = layers.conv_forward(images[:, None], p["H1.weight"], p["H1.bias"], 2, 2, PAD_VALUE)  # (N, 12, 8, 8)
        h1, a1 = self._hidden(z1)
        z2, c2 = layers.conv_forward(h1, p["H2.weight"], p["H2.bias"], 2, 2, PAD_VALUE, H2_PLANES)  # (N, 12, 4, 4)
        h2, a2 = self._hidden(z2)
        mask = None if dropout_mask is None else dropout_mask.reshape(h2.shape[0], -1)
        h2d, d2 = layers.dropout_forward(h2.reshape(len(h2), -1), mask)  # (N, 192)
        z3, c3 = layers.linear_forward(h2d, p["H3.weight"], p["H3.bias"])  # (N, 30)
        h3, a3 = self._hidden(z3)
        z4, c4 = layers.linear_forward(h3, p["out.weight"], p["out.bias"])  # (N, 10)
        if self.config.output == "tanh":
            y, a4 = layers.scaled_tanh_forward(z4, *self.tanh_constants)
        else:
            y, a4 = z4, None
        return y, (c1, a1, c2, a2, d2, c3, a3, c4, a4)

    def loss(self, outputs: np.ndarray, targets: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
        """(loss, dloss/doutputs): MSE against +-1 targets, or softmax cross-entropy against labels."""
        if self.config.output == "tanh":
            return layers.mse_loss(outputs, targets.astype(outputs.dtype, copy=False))
        return layers.softmax_cross_entropy(outputs, labels)

    def loss_and_grads(self, images, targets, labels, dropout_mask=None) -> float:
        """Batched forward and backward through layers.py; fills `self.grads`, returns the loss."""
        images = self._check_images(images)
        y, (c1, a1, c2, a2, d2, c3, a3, c4, a4) = self._forward(images, dropout_mask)
        loss, dy = self.loss(y, targets, labels)
        dz4 = layers.scaled_tanh_backward(dy, a4, *self.tanh_constants) if self.config.output == "tanh" else dy
        dh3, self.g["out.weight"][...], self.g["out.bias"][...] = layers.linear_backward(dz4, c4)
        dz3 = self._hidden_backward(dh3, a3)
        dh2d, self.g["H3.weight"][...], self.g["H3.bias"][...] = layers.linear_backward(dz3, c3)
        dz2 = self._hidden_backward(layers.dropout_backward(dh2d, d2).reshape(a2.shape), a2)
        dh1, self.g["H2.weight"][...], self.g["H2.bias"][...] = layers.conv_backward(dz2, c2)
        dz1 = self._hidden_backward(dh1, a1)
        _, self.g["H1.weight"][...], self.g["H1.bias"][...] = layers.conv_backward(dz1, c1)
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
        y, (c1, a1, c2, a2, _, c3, a3, c4, a4) = self._forward(images)

        def hidden_twice(d2y, out):  # a unit's backward applied twice multiplies by f'(a)^2
            return self._hidden_backward(self._hidden_backward(d2y, out), out)

        def square_linear(cache):
            x, w = cache
            return x * x, w * w

        def square_conv(cache):
            shape, pad, w, b, cols, idx, planes = cache
            return shape, pad, w * w, b, cols * cols, idx, planes

        hessian = np.zeros_like(self.params)
        h = layout_views(hessian)
        d2y = np.full(y.shape, 0.2 / len(images), self.dtype)  # (N, 10): per example 2/10, averaged over N
        output_backward = layers.scaled_tanh_backward
        d2z4 = output_backward(output_backward(d2y, a4, *self.tanh_constants), a4, *self.tanh_constants)  # (N, 10)
        d2h3, h["out.weight"][...], h["out.bias"][...] = layers.linear_backward(d2z4, square_linear(c4))
        d2z3 = hidden_twice(d2h3, a3)  # (N, 30)
        d2h2, h["H3.weight"][...], h["H3.bias"][...] = layers.linear_backward(d2z3, square_linear(c3))
        d2z2 = hidden_twice(d2h2.reshape(a2.shape), a2)  # (N, 12, 4, 4)
        d2h1, h["H2.weight"][...], h["H2.bias"][...] = layers.conv_backward(d2z2, square_conv(c2))
        d2z1 = hidden_twice(d2h1, a1)  # (N, 12, 8, 8)
        _, h["H1.weight"][...], h["H1.bias"][...] = layers.conv_backward(d2z1, square_conv(c1))
        return hessian

    # ----------------------------------------------------------------------- the fused batch-size-1 step

    @property
    def tanh_constants(self) -> tuple[float, float]:
        """(A, S) of f(x) = A tanh(S x) for every tanh of the network."""
        return (TANH_A, TANH_S) if self.config.tanh == "scaled" else (1.0, 1.0)

    def _build_step(self) -> None:
        """Index arrays and buffers for `step`, so a step allocates nothing."""
        f = self.dtype
        side = 16 + 2 * CANVAS_PAD
        # H1's im2col on the 20x20 padded input, re-expressed on the 22x22 canvas once per shift
        base = layers.conv_indices((1, 16, 16), 5, 2, 2, ((0,),))[0]  # (25, 64) into the 20x20 padded input
        row, col = np.divmod(base, 20)
        idx1 = []
        for dy, dx in SHIFTS:  # padded[a, b] = image[a - 2 - dy, b - 2 - dx] where both lie in the 16x16 frame
            i, j = row - 2 - dy, col - 2 - dx  # source pixel in the unshifted image
            inside = (row >= 2) & (row < 18) & (col >= 2) & (col < 18) & (i >= 0) & (i < 16) & (j >= 0) & (j < 16)
            idx1.append(np.where(inside, (i + CANVAS_PAD) * side + (j + CANVAS_PAD), 0))  # canvas[0] is background
        self._idx1 = np.stack(idx1)  # (9, 25, 64) into the flat canvas
        self._idx2 = layers.conv_indices((12, 8, 8), 5, 2, 2, H2_PLANES)  # (3, 200, 16) into H1 padded 12x12
        # col2im for H2 as two fixed matrices: S scatters (kernel pos, output pos) -> H1 interior pos,
        # P adds up the two groups' contributions to each H1 map (each map feeds two groups)
        k, l = np.meshgrid(np.arange(25), np.arange(16), indexing="ij")
        r, c = 2 * (l // 4) + k // 5, 2 * (l % 4) + k % 5  # positions in the 12x12 padded map
        inside = (r >= 2) & (r < 10) & (c >= 2) & (c < 10)
        self._col2im = np.zeros((25 * 16, 64), f)  # (400, 64)
        self._col2im[(k * 16 + l)[inside], ((r - 2) * 8 + (c - 2))[inside]] = 1.0
        self._planesum = np.zeros((12, 24), f)  # (12, 24)
        for g, planes in enumerate(H2_PLANES):
            for j, plane in enumerate(planes):
                self._planesum[plane, 8 * g + j] = 1.0
        # views of parameters and gradients in the shapes the step multiplies with
        p, g = self.p, self.g
        self._W1, self._gW1 = p["H1.weight"].reshape(12, 25), g["H1.weight"].reshape(12, 25)
        self._b1, self._gb1 = p["H1.bias"].reshape(12, 64), g["H1.bias"].reshape(12, 64)
        self._W2, self._gW2 = p["H2.weight"].reshape(3, 4, 200), g["H2.weight"].reshape(3, 4, 200)
        self._W2T = self._W2.transpose(0, 2, 1)  # (3, 200, 4), a view
        self._b2, self._gb2 = p["H2.bias"].reshape(3, 4, 16), g["H2.bias"].reshape(3, 4, 16)
        # buffers
        self._col1 = np.empty((25, 64), f)
        self._z1 = np.empty((12, 64), f)
        self._h1pad = np.full((12, 12, 12), PAD_VALUE, f)  # H1's maps inside their -1 border
        self._h1 = self._h1pad[:, 2:10, 2:10]  # (12, 8, 8) view of the interior
        self._h1flat = self._h1pad.reshape(-1)
        self._col2 = np.empty((3, 200, 16), f)
        self._z2 = np.empty((3, 4, 16), f)
        self._h2 = np.empty((3, 4, 16), f)
        self._h2d = np.empty(192, f)
        self._z3, self._h3 = np.empty(30, f), np.empty(30, f)
        self._z4, self._y, self._diff = np.empty(10, f), np.empty(10, f), np.empty(10, f)
        self._dh3, self._dh2 = np.empty(30, f), np.empty(192, f)
        self._dcol2 = np.empty((3, 200, 16), f)
        self._dh1_groups = np.empty((24, 64), f)
        self._dh1 = np.empty((12, 64), f)
        self._tmp = {n: np.empty(n, f) for n in (10, 30, 192, 768)}

    def _act(self, z: np.ndarray, out: np.ndarray, tanh: bool) -> None:
        """out = f(z); z is overwritten."""
        if tanh:
            A, S = self.tanh_constants
            np.multiply(z, S, out=z)
            np.tanh(z, out=z)
            np.multiply(z, A, out=out)
        else:
            np.maximum(z, 0, out=out)

    def _act_grad(self, y: np.ndarray, dy: np.ndarray, out: np.ndarray, tanh: bool) -> None:
        """out = dy * f'(z), written with the output y = f(z)."""
        if tanh:  # f' = (S/A)(A^2 - y^2) = S A - (S/A) y^2
            A, S = self.tanh_constants
            tmp = self._tmp[y.size].reshape(y.shape)
            np.multiply(y, y, out=tmp)
            np.multiply(tmp, -S / A, out=tmp)
            tmp += S * A
            np.multiply(dy, tmp, out=out)
        else:
            np.multiply(dy, y > 0, out=out)

    def step(self, canvas: np.ndarray, target: np.ndarray, label: int, shift: int = NO_SHIFT, mask=None) -> float:
        """Forward and backward for one example; fills `self.grads` and returns the loss.

        canvas: (484,) the image on its 22x22 canvas (`make_canvas`), in the network's dtype;
        target: (10,) +-1 targets (MSE output) and label: the class (softmax output);
        shift: index into SHIFTS (4 = none); mask: (192,) inverted-dropout mask or None.
        The same computation as `loss_and_grads` on one image, without any allocation.
        """
        tanh = self.config.activation == "tanh"
        p, g = self.p, self.g
        # forward
        np.take(canvas, self._idx1[shift], out=self._col1, mode="clip")  # (25, 64) im2col of the input
        np.matmul(self._W1, self._col1, out=self._z1)  # (12, 64)
        self._z1 += self._b1
        self._act(self._z1.reshape(12, 8, 8), self._h1, tanh)  # into the padded H1 buffer
        np.take(self._h1flat, self._idx2, out=self._col2, mode="clip")  # (3, 200, 16) im2col of H1
        np.matmul(self._W2, self._col2, out=self._z2)  # (3, 4, 16)
        self._z2 += self._b2
        self._act(self._z2, self._h2, tanh)
        h2 = self._h2.reshape(192)
        if mask is not None:
            np.multiply(h2, mask, out=self._h2d)
            h2 = self._h2d
        np.matmul(h2, p["H3.weight"], out=self._z3)  # (30,)
        self._z3 += p["H3.bias"]
        self._act(self._z3, self._h3, tanh)
        np.matmul(self._h3, p["out.weight"], out=self._z4)  # (10,)
        self._z4 += p["out.bias"]
        dz4 = g["out.bias"]  # the output bias's gradient is dz4 itself: compute it in place
        if self.config.output == "tanh":
            self._act(self._z4, self._y, True)
            diff = self._diff
            np.subtract(self._y, target, out=diff)
            loss = float(np.dot(diff, diff)) / 10.0  # mean over the 10 outputs
            diff *= 0.2  # dloss/dy = 2 (y - t) / 10
            self._act_grad(self._y, diff, dz4, True)
        else:
            np.subtract(self._z4, self._z4.max(), out=dz4)
            np.exp(dz4, out=dz4)
            total = float(dz4.sum())
            dz4 /= total  # softmax probabilities
            loss = -math.log(max(float(dz4[label]), 1e-45))
            dz4[label] -= 1.0  # dloss/dlogits = p - onehot
        # backward
        np.outer(self._h3, dz4, out=g["out.weight"])  # (30, 10)
        np.matmul(p["out.weight"], dz4, out=self._dh3)  # (30,)
        self._act_grad(self._h3, self._dh3, g["H3.bias"], tanh)  # dz3, (30,)
        np.outer(h2, g["H3.bias"], out=g["H3.weight"])  # (192, 30)
        np.matmul(p["H3.weight"], g["H3.bias"], out=self._dh2)  # (192,)
        if mask is not None:
            self._dh2 *= mask
        self._act_grad(self._h2, self._dh2.reshape(3, 4, 16), self._gb2, tanh)  # dz2, (3, 4, 16)
        np.matmul(self._gb2, self._col2.transpose(0, 2, 1), out=self._gW2)  # (3, 4, 200)
        np.matmul(self._W2T, self._gb2, out=self._dcol2)  # (3, 200, 16)
        np.matmul(self._dcol2.reshape(24, 400), self._col2im, out=self._dh1_groups)  # (24, 64)
        np.matmul(self._planesum, self._dh1_groups, out=self._dh1)  # (12, 64)
        self._act_grad(self._h1, self._dh1.reshape(12, 8, 8), self._gb1.reshape(12, 8, 8), tanh)  # dz1
        np.matmul(self._gb1, self._col1.T, out=self._gW1)  # (12, 25)
        return loss


# --------------------------------------------------------------------------- checkpoints

CHECKPOINT_FORMAT = "lecun1989-checkpoint-1"


def save_checkpoint(path: str | os.PathLike, net: Net, meta: dict | None = None) -> Path:
    """Parameters and config (as JSON text) in an .npz, no pickle."""
    header = {"format": CHECKPOINT_FORMAT, "config": asdict(net.config), "meta": meta or {}}
    arrays = {"header": np.array(json.dumps(header, sort_keys=True))}
    arrays.update(net.state_dict())
    return save_npz(path, arrays)


def load_checkpoint(path: str | os.PathLike, dtype=np.float32) -> tuple[Net, dict]:
    """(net, meta) from a checkpoint; a DataFormatError for anything corrupt or mismatched."""
    arrays = load_npz(path, "checkpoint")
    if "header" not in arrays or arrays["header"].dtype.kind != "U" or arrays["header"].shape != ():
        raise DataFormatError(f"checkpoint {path} has no header: not a lecun1989 checkpoint")
    try:
        header = json.loads(str(arrays["header"]))
        if header.get("format") != CHECKPOINT_FORMAT:
            found = header.get("format")
            raise DataFormatError(f"checkpoint {path} has format {found!r}, expected {CHECKPOINT_FORMAT!r}")
        config = Config(**header["config"])
    except (json.JSONDecodeError, TypeError, KeyError, AttributeError, ValueError) as error:
        if isinstance(error, DataFormatError):
            raise
        raise DataFormatError(f"checkpoint {path} has a malformed header ({error})") from None
    net = Net(config, dtype=dtype)
    try:
        net.load_state_dict(arrays)
    except DataFormatError as error:
        raise DataFormatError(f"checkpoint {path}: {error}") from None
    return net, header.get("meta", {})
