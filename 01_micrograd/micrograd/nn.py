"""A tiny neural-net library on top of `Value`: Neuron, Layer, MLP (as in micrograd).

A neuron computes `act(w . x + b)`; a layer is a list of neurons reading the same input;
an MLP is a stack of layers whose last one is linear (no ReLU), so that it can output a
score of either sign. Every weight is its own `Value`, so a forward pass builds the
whole computation graph, scalar by scalar, and `loss.backward()` fills every `p.grad`.

Weights start uniform in [-1, 1] and biases at 0, as in micrograd, drawn from a NumPy
generator (`rng`: a seed or a `numpy.random.Generator`) so that runs are reproducible.

What it does not do: batching, other activations, or optimisers (the SGD update is
one line in the training loop: `p.data -= lr * p.grad`).

The contract (stated in full in engine.py): `Module.parameters()` lists the `Value`s to train,
`zero_grad()` clears them, because `backward()` accumulates into `.grad`. This file imports only
NumPy and engine.py, so a copy of the two stands alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .engine import Value

__all__ = ["MLP", "Layer", "Module", "Neuron"]


class Module:
    """Something with parameters: `parameters()` lists them, `zero_grad()` resets their gradients."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero (backward accumulates into it)."""
        for p in self.parameters():
            p.grad = 0.0


def _generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """`rng` itself if it is a Generator, else a new one seeded with it (None: fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is not None and (isinstance(rng, bool) or not isinstance(rng, (int, np.integer))):
        raise TypeError(f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}")
    if rng is not None and rng < 0:
        raise ValueError(f"a seed must be non-negative, got {rng}")
    return np.random.default_rng(rng)


def _check_count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class Neuron(Module):
    """relu(w . x + b), or w . x + b when `nonlin=False`; `nin` inputs."""

    def __init__(self, nin: int, nonlin: bool = True, rng: np.random.Generator | int | None = None):
        nin = _check_count(nin, "nin")
        rng = _generator(rng)
        self.w = [Value(w) for w in rng.uniform(-1.0, 1.0, nin).tolist()]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def __call__(self, x: Sequence) -> Value:
        if not isinstance(x, Sequence) and not (isinstance(x, np.ndarray) and x.ndim == 1):
            raise TypeError(f"{self!r} expects a list of {len(self.w)} inputs, got {type(x).__name__}")
        if len(x) != len(self.w):
            raise ValueError(f"{self!r} expects {len(self.w)} inputs, got {len(x)}")
        # exercise: neuron_forward: relu(w . x + b), or w . x + b for a linear neuron (README, "What is here")
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act
        # end exercise

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` neurons reading the same `nin` inputs; returns a list (a single Value if nout == 1)."""

    def __init__(self, nin: int, nout: int, rng: np.random.Generator | int | None = None, **kwargs):
        nin, nout = _check_count(nin, "nin"), _check_count(nout, "nout")
        rng = _generator(rng)
        self.neurons = [Neuron(nin, rng=rng, **kwargs) for _ in range(nout)]

    def __call__(self, x: Sequence) -> Value | list[Value]:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Multi-layer perceptron: `nin` inputs, then layers of sizes `nouts`; the last layer is linear."""

    def __init__(self, nin: int, nouts: Sequence[int], rng: np.random.Generator | int | None = None):
        nin = _check_count(nin, "nin")
        if isinstance(nouts, (int, np.integer)) or len(nouts) == 0:
            raise ValueError(f"nouts must be a non-empty list of layer sizes, e.g. [16, 16, 1], got {nouts!r}")
        sizes = [nin] + [_check_count(n, "each layer size in nouts") for n in nouts]
        rng = _generator(rng)
        self.layers = [Layer(sizes[i], sizes[i + 1], rng=rng, nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

    def __call__(self, x: Sequence) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
            if isinstance(x, Value):  # a hidden layer of width 1 still feeds a list to the next
                x = [x]
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
