"""Parity with torch.optim: 200 steps on a random problem in float64, max abs difference <= 1e-10.

The problem is a noisy least-squares fit with a cubic term (so gradients change along the path) in three
parameter tensors of different shapes; both sides see exactly the same gradient sequence at every step
because the gradient is computed from each side's own current parameters.
"""

import numpy as np
import pytest
from adam.nn import Parameter
from adam.optim import OPTIMIZERS

from shared.testing import oracle

pytestmark = pytest.mark.parity

CASES = [
    ("SGD", {"lr": 0.01}),
    ("SGD", {"lr": 0.01, "momentum": 0.9}),
    ("SGD", {"lr": 0.01, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}),
    ("Adagrad", {"lr": 0.05}),
    ("Adagrad", {"lr": 0.05, "lr_decay": 0.01, "weight_decay": 0.05, "initial_accumulator_value": 0.1}),
    ("RMSprop", {"lr": 0.005}),
    ("RMSprop", {"lr": 0.005, "alpha": 0.9, "momentum": 0.8, "weight_decay": 0.05}),
    ("RMSprop", {"lr": 0.005, "centered": True}),
    ("RMSprop", {"lr": 0.002, "centered": True, "momentum": 0.9, "weight_decay": 0.05}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.95, "eps": 1e-5, "weight_decay": 0.05}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.05}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.05}),
]


def make_problem(seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(6, 4), (4,), (2, 3)]
    start = [rng.standard_normal(shape) for shape in shapes]
    A = [rng.standard_normal((8, int(np.prod(shape)))) / 3 for shape in shapes]
    target = rng.standard_normal(8)
    noise = rng.standard_normal((200, 8)) * 0.1

    def gradients(arrays, step):
        r = sum(a @ x.ravel() for a, x in zip(A, arrays)) - target - noise[step]  # (8,)
        dr = r + 0.1 * r**3
        return [(a.T @ dr).reshape(x.shape) for a, x in zip(A, arrays)]

    return start, gradients


def step_side_by_side(torch, optimizer, ours, reference, theirs, gradients, steps=200):
    """Run both optimizers for `steps`, each fed the gradient at its own parameters; return the worst
    max abs difference between the two sides seen after any step."""
    worst = 0.0
    for step in range(steps):
        for param, grad in zip(ours, gradients([p.data for p in ours], step)):
            param.grad[...] = grad
        optimizer.step()
        for tensor, grad in zip(theirs, gradients([t.detach().numpy() for t in theirs], step)):
            tensor.grad = torch.from_numpy(grad)
        reference.step()
        worst = max(worst, max(float(np.abs(p.data - t.detach().numpy()).max()) for p, t in zip(ours, theirs)))
    return worst


@pytest.mark.parametrize(("name", "hyper"), CASES, ids=[f"{n}-{'-'.join(h) or 'defaults'}" for n, h in CASES])
def test_matches_torch_optim_over_200_steps(name, hyper):
    torch = oracle("torch")
    start, gradients = make_problem()
    ours = [Parameter(x.copy()) for x in start]
    theirs = [torch.tensor(x.copy(), dtype=torch.float64, requires_grad=True) for x in start]
    optimizer = OPTIMIZERS[name](ours, **hyper)
    reference = getattr(torch.optim, name)(theirs, foreach=False, **hyper)
    worst = step_side_by_side(torch, optimizer, ours, reference, theirs, gradients)
    moved = max(float(np.abs(p.data - x).max()) for p, x in zip(ours, start))
    assert moved > 1e-3, "the problem should move the parameters"
    assert worst <= 1e-10, f"{name} {hyper}: max abs difference {worst:.3e}"


def test_adam_efficient_form_matches_torch_with_rescaled_eps():
    # Section 2's reordering with eps_hat equals Algorithm 1 with eps = eps_hat / sqrt(1 - beta2^t); with
    # eps = 0 both are exactly the same update.
    torch = oracle("torch")
    start, gradients = make_problem(1)
    ours = [Parameter(x.copy()) for x in start]
    theirs = [torch.tensor(x.copy(), requires_grad=True) for x in start]
    optimizer = OPTIMIZERS["Adam"](ours, lr=0.01, eps=0.0, efficient=True)
    reference = torch.optim.Adam(theirs, lr=0.01, eps=0.0, foreach=False)
    step_side_by_side(torch, optimizer, ours, reference, theirs, gradients)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.data, t.detach().numpy(), atol=1e-10, rtol=0)


def test_float32_step_matches_torch_foreach_closely():
    torch = oracle("torch")
    rng = np.random.default_rng(2)
    data = [rng.standard_normal(1000).astype(np.float32) for _ in range(3)]
    ours = [Parameter(d.copy()) for d in data]
    theirs = [torch.tensor(d.copy(), requires_grad=True) for d in data]
    optimizer = OPTIMIZERS["Adam"](ours, lr=1e-3)
    reference = torch.optim.Adam(theirs, lr=1e-3, foreach=True)
    for _ in range(20):
        grads = [rng.standard_normal(1000).astype(np.float32) for _ in data]
        for p, t, g in zip(ours, theirs, grads):
            p.grad[...] = g
            t.grad = torch.from_numpy(g.copy())
        optimizer.step()
        reference.step()
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.data, t.detach().numpy(), atol=1e-5)
