"""fast.py computes what engine.py computes: the same topological order, the same gradients bit for bit."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from micrograd.data import make_moons
from micrograd.engine import Value
from micrograd.fast import backward_fast, cycle_collector_paused, topological_order_fast
from micrograd.nn import MLP
from micrograd.train import max_margin_loss


def demo_loss(model: MLP) -> Value:
    X, labels = make_moons(12, 0.1, 3)
    return max_margin_loss(model, X, 2 * labels - 1, alpha=1e-4)[0]


def expression(a: Value, b: Value) -> Value:
    c = a * a + b / a - (a**2.5).tanh()  # a reused, one- and two-input operations
    return (c * b).sigmoid() + c.exp() * 0.1 + (2 - b).relu() + (a**b).log()


@pytest.mark.parametrize("build", ["expression", "demo loss"])
def test_topological_order_fast_is_the_same_list(build):
    root = expression(Value(1.3), Value(0.7)) if build == "expression" else demo_loss(MLP(2, [4, 3, 1], rng=0))
    assert topological_order_fast(root) == root.topological_order()


def test_backward_fast_gives_the_readable_backwards_gradients_bit_for_bit():
    readable, fast = MLP(2, [16, 16, 1], rng=1), MLP(2, [16, 16, 1], rng=1)
    demo_loss(readable).backward()
    backward_fast(demo_loss(fast))
    assert [p.grad for p in readable.parameters()] == [p.grad for p in fast.parameters()]
    assert any(p.grad != 0.0 for p in fast.parameters())
    a, b = Value(1.3), Value(0.7)
    expression(a, b).backward()
    a2, b2 = Value(1.3), Value(0.7)
    backward_fast(expression(a2, b2))
    assert (a.grad, b.grad) == (a2.grad, b2.grad)


def test_backward_fast_accumulates_in_leaves_and_resets_interior_nodes_like_backward():
    a, b = Value(2.0), Value(-1.0)
    out = (a * b).tanh() * a
    out.backward()
    once = np.array([a.grad, b.grad])
    backward_fast(out)
    assert np.array([a.grad, b.grad]) == pytest.approx(2 * once)


def test_cycle_collector_paused_restores_the_previous_state():
    assert gc.isenabled()
    with cycle_collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
