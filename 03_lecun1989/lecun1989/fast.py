"""The fast twin of `Net.loss_and_grads`: one example's forward and backward, fused.

The paper trains with one example per update: 7291 updates a pass, 23 passes. At batch size
1 the batched code in `model.py` spends its time allocating arrays and in Python, not in
arithmetic (about 65k multiply-adds forward). `FusedStep` is that same computation
specialised to one image and written into buffers allocated once:

- the input's im2col is one `np.take` from the image on a 22x22 canvas of -1 (one index
  array per +-1 pixel shift, so the modern run's augmentation costs nothing);
- H2's im2col is one `np.take` into a (3 groups, 200, 16) buffer and one batched matmul;
- its col2im in the backward pass is two fixed matrices (positions to H1 positions, then
  the two groups that feed each H1 map), instead of `np.add.at`;
- f(z) and f'(z) are computed in place (f' written with the output y: S/A (A^2 - y^2)).

About fifty NumPy calls a step. What it does not do: batches, the Hessian, anything else.
Read `model.Net.forward_with_activations` and `Net.backward` for the formulas; this file
is the same formulas rearranged for speed. `tests/test_fast.py` checks that both give the
same loss and gradients (every shift, dropout, both outputs) and checks this step against
finite differences.

Imports: NumPy, the standard library and this folder only.
"""

from __future__ import annotations

import math

import numpy as np

from . import layers
from .model import CANVAS_PAD, H2_PLANES, NO_SHIFT, PAD_VALUE, SHIFTS, Net

__all__ = ["FusedStep"]


class FusedStep:
    """`step(canvas, target, label, shift, mask)`: Net.loss_and_grads for one example, allocation-free."""

    def __init__(self, net: Net):
        """Index arrays and buffers for `step`, so a step allocates nothing; `net`'s arrays are shared, not copied."""
        self.net = net
        self.config, self.dtype, self.tanh_constants = net.config, net.dtype, net.tanh_constants
        self.p, self.g = net.p, net.g  # name -> views into net.params and net.grads
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
        p, g = net.p, net.g
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
        The same computation as `Net.loss_and_grads` on one image (tests check it), without any
        allocation; the parameter gradients land in `net.grads`, overwriting the previous ones.
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
