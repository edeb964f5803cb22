"""Parity with PyTorch: BatchNorm1d, cross-entropy, the GRU cell, an embedding's gradient, a full step."""

import numpy as np
import pytest
from makemore.layers import BatchNorm1d, Embedding, GRUCell, cross_entropy
from makemore.models import build_model

from shared.testing import oracle

pytestmark = pytest.mark.parity


@pytest.fixture
def torch():
    torch = oracle("torch")
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(torch.float32)


def test_batchnorm1d_train_and_eval_match_torch(torch):
    rng = np.random.default_rng(0)
    ours = BatchNorm1d(5, momentum=0.1, dtype=np.float64)
    theirs = torch.nn.BatchNorm1d(5, momentum=0.1, eps=1e-5)
    gamma, beta = rng.standard_normal(5), rng.standard_normal(5)
    ours.gamma[...], ours.beta[...] = gamma, beta
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(gamma))
        theirs.bias.copy_(torch.tensor(beta))
    for _ in range(3):  # several steps so the running statistics accumulate
        x = rng.standard_normal((16, 5)) * 2 + 3
        dy = rng.standard_normal((16, 5))
        xt = torch.tensor(x, requires_grad=True)
        theirs.zero_grad()
        yt = theirs(xt)
        (yt * torch.tensor(dy)).sum().backward()
        y = ours.forward(x)
        ours.zero_grad()  # our backward accumulates, like torch's after zero_grad
        dx = ours.backward(dy)
        np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-10)
        np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(ours.dgamma, theirs.weight.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(ours.dbeta, theirs.bias.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), atol=1e-12)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((4, 5))
    np.testing.assert_allclose(ours.forward(x), theirs(torch.tensor(x)).detach().numpy(), atol=1e-10)


def test_batchnorm_over_three_dimensions_matches_torch_on_channels_first(torch):
    rng = np.random.default_rng(1)
    ours = BatchNorm1d(4, dtype=np.float64)
    theirs = torch.nn.BatchNorm1d(4)
    x = rng.standard_normal((6, 3, 4))  # (N, L, C): lecture 5's channels-last layout
    y = ours.forward(x)
    yt = theirs(torch.tensor(x).transpose(1, 2)).transpose(1, 2)  # torch wants (N, C, L)
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), atol=1e-12)


def test_unbiased_batchnorm_matches_the_lectures_torch_code(torch):
    """Lecture 3/5's BatchNorm: x.var() (Bessel's correction) in the normalization and the running var."""
    rng = np.random.default_rng(3)
    ours = BatchNorm1d(4, momentum=0.1, dtype=np.float64, unbiased=True)
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    ours.gamma[...], ours.beta[...] = gamma, beta
    running_var = torch.ones(4)
    for shape in ((16, 4), (6, 3, 4)):
        x, dy = rng.standard_normal(shape) * 2 + 3, rng.standard_normal(shape)
        xt = torch.tensor(x, requires_grad=True)
        axes = tuple(range(x.ndim - 1))
        var = xt.var(axes, keepdim=True)
        yt = torch.tensor(gamma) * (xt - xt.mean(axes, keepdim=True)) / torch.sqrt(var + 1e-5) + torch.tensor(beta)
        (yt * torch.tensor(dy)).sum().backward()
        running_var = 0.9 * running_var + 0.1 * var.detach().reshape(-1)
        np.testing.assert_allclose(ours.forward(x), yt.detach().numpy(), atol=1e-10)
        np.testing.assert_allclose(ours.backward(dy), xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(ours.running_var, running_var.numpy(), atol=1e-12)


def test_cross_entropy_matches_torch_with_and_without_ignore_index(torch):
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((10, 27)) * 4
    targets = rng.integers(0, 27, 10)
    targets[[2, 7]] = -1
    for ignore in (None, -1):
        t = targets if ignore is not None else np.abs(targets)
        loss, dlogits = cross_entropy(logits, t, ignore_index=ignore)
        lt = torch.tensor(logits, requires_grad=True)
        ref = torch.nn.functional.cross_entropy(lt, torch.tensor(t), ignore_index=-100 if ignore is None else -1)
        ref.backward()
        assert loss == pytest.approx(ref.item(), abs=1e-12)
        np.testing.assert_allclose(dlogits, lt.grad.numpy(), atol=1e-12)


def test_gru_cell_matches_makemore_equations_in_torch(torch):
    rng = np.random.default_rng(3)
    cell = GRUCell(3, 4, rng=rng, dtype=np.float64)
    p = {k: torch.tensor(v, requires_grad=True) for k, v in cell.parameters().items()}
    xs, h0, dys = rng.standard_normal((3, 2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((3, 2, 4))
    xt, ht = torch.tensor(xs, requires_grad=True), torch.tensor(h0, requires_grad=True)
    h, total = ht, 0
    for t in range(3):  # makemore.py's GRUCell.forward, written with torch ops
        xh = torch.cat([xt[t], h], dim=1)
        r = torch.sigmoid(xh @ p["w_r"] + p["b_r"])
        hbar = torch.tanh(torch.cat([xt[t], r * h], dim=1) @ p["w_hbar"] + p["b_hbar"])
        z = torch.sigmoid(xh @ p["w_z"] + p["b_z"])
        h = (1 - z) * h + z * hbar
        total = total + (h * torch.tensor(dys[t])).sum()
    total.backward()
    cell.reset()
    hs, hn = [], h0
    for t in range(3):
        hn = cell.forward(xs[t], hn)
        hs.append(hn)
    np.testing.assert_allclose(hn, h.detach().numpy(), atol=1e-12)
    dxs, dh = np.zeros_like(xs), np.zeros_like(h0)
    for t in reversed(range(3)):
        dxs[t], dh = cell.backward(dys[t] + dh)
    np.testing.assert_allclose(dxs, xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(dh, ht.grad.numpy(), atol=1e-12)
    for k, v in cell.gradients().items():
        np.testing.assert_allclose(v, p[k].grad.numpy(), atol=1e-12, err_msg=k)


def test_embedding_gradient_with_repeated_indices_matches_torch(torch):
    rng = np.random.default_rng(4)
    ours = Embedding(27, 5, rng=rng, dtype=np.float64)
    theirs = torch.nn.Embedding(27, 5)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight))
    idx = np.array([[1, 1, 1], [0, 5, 1], [26, 5, 0]])
    dy = rng.standard_normal((3, 3, 5))
    np.testing.assert_allclose(ours.forward(idx), theirs(torch.tensor(idx)).detach().numpy())
    ours.backward(dy)
    (theirs(torch.tensor(idx)) * torch.tensor(dy)).sum().backward()
    np.testing.assert_allclose(ours.dweight, theirs.weight.grad.numpy(), atol=1e-12)


def test_wavenet_training_step_matches_torch(torch):
    """The whole lecture-5 model: same weights, same batch -> same loss and same gradients."""
    from makemore.bench import torch_model

    ours = build_model("wavenet", rng=0, dtype=np.float64)
    theirs = torch_model(torch, ours)
    rng = np.random.default_rng(5)
    X, Y = rng.integers(0, 27, (32, 8)), rng.integers(0, 27, 32)
    loss, dlogits = ours.loss(X, Y)
    ours.backward(dlogits)
    ref = torch.nn.functional.cross_entropy(theirs(torch.tensor(X)), torch.tensor(Y))
    ref.backward()
    assert loss == pytest.approx(ref.item(), abs=1e-10)
    grads = ours.gradients()
    for name, p in zip(ours.parameters(), theirs.parameters()):
        ref = p.grad.numpy()
        ref = ref.T if ref.shape != grads[name].shape else ref  # torch's Linear weight is (out, in)
        np.testing.assert_allclose(grads[name], ref, atol=1e-10, err_msg=name)


def test_benchmark_runs_and_prints_the_ratio(torch, capsys, tmp_path):
    from makemore.__main__ import main

    torch.set_default_dtype(torch.float32)
    assert main(["bench", "--steps", "3", "--rounds", "1", "--models", "mlp", "--out", str(tmp_path)]) == 0
    assert "ratio" in capsys.readouterr().out
    assert (tmp_path / "results.json").is_file()


def test_reference_runs_of_the_lecture_mlps_train_and_report_losses(toy_names):
    torch = oracle("torch")
    from makemore.data import build_dataset, split_names
    from makemore.reference import BLOCK_SIZES, TRAINERS

    split = split_names(toy_names)
    for model, trainer in TRAINERS.items():
        data = {part: build_dataset(split[part], BLOCK_SIZES[model]) for part in ("train", "dev")}
        first, again = trainer(torch, data, seed=1, steps=20), trainer(torch, data, seed=1, steps=20)
        assert set(first) == {"train_loss", "dev_loss"} and first == again  # seeded: the same numbers
        assert np.isfinite(first["dev_loss"]) and first["dev_loss"] > 0  # lecture 2 starts near 27 (N(0, 1) init)
