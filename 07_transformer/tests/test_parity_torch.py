"""Parity against PyTorch: attention, encoder and decoder layers (post-LN, ReLU, dropout 0)
with copied weights, forward and every gradient; label smoothing; Adam."""

import numpy as np
import pytest
from helpers import tiny_config
from transformer.layers import MultiHeadAttention
from transformer.loss import label_smoothed_cross_entropy
from transformer.model import DecoderLayer, EncoderLayer, causal_mask, padding_mask
from transformer.optim import Adam

from shared.testing import oracle

pytestmark = pytest.mark.parity

D, H, FF = 16, 4, 24


def copy_mha(ours: MultiHeadAttention, theirs, torch):
    """torch stores y = x W^T + b with Q, K, V stacked in in_proj_weight (3d, d)."""
    w, b = theirs.in_proj_weight.detach().numpy(), theirs.in_proj_bias.detach().numpy()
    ours.q_proj.W[...] = w[:D].T
    ours.q_proj.b[...] = b[:D]
    ours.kv_proj.W[...] = w[D:].T
    ours.kv_proj.b[...] = b[D:]
    ours.out_proj.W[...] = theirs.out_proj.weight.detach().numpy().T
    ours.out_proj.b[...] = theirs.out_proj.bias.detach().numpy()


def mha_grads(ours: MultiHeadAttention):
    return {
        "in_proj_weight": np.concatenate([ours.q_proj.grads["W"].T, ours.kv_proj.grads["W"].T]),
        "in_proj_bias": np.concatenate([ours.q_proj.grads["b"], ours.kv_proj.grads["b"]]),
        "out_proj.weight": ours.out_proj.grads["W"].T,
        "out_proj.bias": ours.out_proj.grads["b"],
    }


def copy_common(ours, theirs, torch, norms):
    ours.ffn.fc1.W[...] = theirs.linear1.weight.detach().numpy().T
    ours.ffn.fc1.b[...] = theirs.linear1.bias.detach().numpy()
    ours.ffn.fc2.W[...] = theirs.linear2.weight.detach().numpy().T
    ours.ffn.fc2.b[...] = theirs.linear2.bias.detach().numpy()
    for name in norms:
        getattr(ours, name).gamma[...] = getattr(theirs, name).weight.detach().numpy()
        getattr(ours, name).beta[...] = getattr(theirs, name).bias.detach().numpy()
    with torch.no_grad():  # non-trivial LayerNorm parameters, so their gradients are tested too
        for name in norms:
            getattr(theirs, name).weight.add_(torch.randn(D, dtype=torch.float64) * 0.1)
            getattr(theirs, name).bias.add_(torch.randn(D, dtype=torch.float64) * 0.1)
    for name in norms:
        getattr(ours, name).gamma[...] = getattr(theirs, name).weight.detach().numpy()
        getattr(ours, name).beta[...] = getattr(theirs, name).bias.detach().numpy()


def common_grads(ours, norms):
    grads = {
        "linear1.weight": ours.ffn.fc1.grads["W"].T,
        "linear1.bias": ours.ffn.fc1.grads["b"],
        "linear2.weight": ours.ffn.fc2.grads["W"].T,
        "linear2.bias": ours.ffn.fc2.grads["b"],
    }
    for name in norms:
        grads[f"{name}.weight"] = getattr(ours, name).grads["gamma"]
        grads[f"{name}.bias"] = getattr(ours, name).grads["beta"]
    return grads


def assert_grads_equal(theirs, ours_grads: dict):
    named = dict(theirs.named_parameters())
    for name, grad in ours_grads.items():
        np.testing.assert_allclose(grad, named[name].grad.numpy(), atol=1e-10, err_msg=name)
    return named


def source_ids(rng, B=3, S=6):
    ids = rng.integers(4, 11, (B, S))
    ids[1, 4:] = 0
    ids[2, 2:] = 0
    return ids


def test_multihead_attention_matches_torch(rng):
    torch = oracle("torch")
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(D, H, dropout=0.0, batch_first=True, dtype=torch.float64)
    ours = MultiHeadAttention(D, H, rng, np.float64)
    copy_mha(ours, theirs, torch)
    x, memory = rng.standard_normal((3, 5, D)), rng.standard_normal((3, 6, D))
    ids = source_ids(rng)
    dout = rng.standard_normal((3, 5, D))

    tx = torch.tensor(x, requires_grad=True)
    tm = torch.tensor(memory, requires_grad=True)
    out_t, _ = theirs(tx, tm, tm, key_padding_mask=torch.tensor(ids == 0), need_weights=False)
    (out_t * torch.tensor(dout)).sum().backward()

    out, cache = ours.forward(x, memory, padding_mask(ids))
    dx, dm = ours.backward(dout, cache)
    np.testing.assert_allclose(out, out_t.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(dx, tx.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(dm, tm.grad.numpy(), atol=1e-10)
    assert_grads_equal(theirs, mha_grads(ours))


def test_encoder_layer_matches_torch_transformer_encoder_layer(rng):
    torch = oracle("torch")
    torch.manual_seed(1)
    theirs = torch.nn.TransformerEncoderLayer(
        D, H, FF, dropout=0.0, activation="relu", batch_first=True, norm_first=False, dtype=torch.float64
    )
    ours = EncoderLayer(tiny_config(d_model=D, n_heads=H, d_ff=FF), rng)
    copy_mha(ours.self_attn, theirs.self_attn, torch)
    copy_common(ours, theirs, torch, ["norm1", "norm2"])
    ids = source_ids(rng)
    x, dout = rng.standard_normal((3, 6, D)), rng.standard_normal((3, 6, D))

    tx = torch.tensor(x, requires_grad=True)
    out_t = theirs(tx, src_key_padding_mask=torch.tensor(ids == 0))
    (out_t * torch.tensor(dout)).sum().backward()

    out, cache = ours.forward(x, padding_mask(ids))
    dx = ours.backward(dout, cache)
    real = ids != 0  # torch may leave padded query rows as they are on its fast path; compare real tokens
    np.testing.assert_allclose(out[real], out_t.detach().numpy()[real], atol=1e-10)
    np.testing.assert_allclose(dx, tx.grad.numpy(), atol=1e-10)
    grads = {
        **common_grads(ours, ["norm1", "norm2"]),
        **{f"self_attn.{k}": v for k, v in mha_grads(ours.self_attn).items()},
    }
    assert_grads_equal(theirs, grads)


def test_decoder_layer_matches_torch_transformer_decoder_layer(rng):
    torch = oracle("torch")
    torch.manual_seed(2)
    theirs = torch.nn.TransformerDecoderLayer(
        D, H, FF, dropout=0.0, activation="relu", batch_first=True, norm_first=False, dtype=torch.float64
    )
    ours = DecoderLayer(tiny_config(d_model=D, n_heads=H, d_ff=FF), rng)
    copy_mha(ours.self_attn, theirs.self_attn, torch)
    copy_mha(ours.cross_attn, theirs.multihead_attn, torch)
    copy_common(ours, theirs, torch, ["norm1", "norm2", "norm3"])
    ids = source_ids(rng)
    T = 5
    x, memory = rng.standard_normal((3, T, D)), rng.standard_normal((3, 6, D))
    dout = rng.standard_normal((3, T, D))

    tx = torch.tensor(x, requires_grad=True)
    tm = torch.tensor(memory, requires_grad=True)
    tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(T, dtype=torch.float64)
    out_t = theirs(tx, tm, tgt_mask=tgt_mask, memory_key_padding_mask=torch.tensor(ids == 0))
    (out_t * torch.tensor(dout)).sum().backward()

    out, cache = ours.forward(x, memory, padding_mask(ids), causal_mask(T))
    dx, dm = ours.backward(dout, cache)
    np.testing.assert_allclose(out, out_t.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(dx, tx.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(dm, tm.grad.numpy(), atol=1e-10)
    grads = {
        **common_grads(ours, ["norm1", "norm2", "norm3"]),
        **{f"self_attn.{k}": v for k, v in mha_grads(ours.self_attn).items()},
        **{f"multihead_attn.{k}": v for k, v in mha_grads(ours.cross_attn).items()},
    }
    assert_grads_equal(theirs, grads)


def test_label_smoothing_matches_torch_cross_entropy(rng):
    torch = oracle("torch")
    logits = rng.standard_normal((4, 5, 9))
    targets = rng.integers(1, 9, (4, 5))
    targets[0, 3:] = 0
    targets[2, 1:] = 0
    tl = torch.tensor(logits, requires_grad=True)
    loss_t = torch.nn.functional.cross_entropy(
        tl.reshape(-1, 9), torch.tensor(targets).reshape(-1), ignore_index=0, label_smoothing=0.1
    )
    loss_t.backward()
    loss, dlogits, _ = label_smoothed_cross_entropy(logits, targets, 0.1, pad_id=0)
    assert loss == pytest.approx(loss_t.item(), abs=1e-12)
    np.testing.assert_allclose(dlogits, tl.grad.numpy(), atol=1e-12)


def test_adam_matches_torch_adam_with_the_papers_settings(rng):
    torch = oracle("torch")
    x = rng.standard_normal(6)
    tx = torch.tensor(x.copy(), requires_grad=True)
    topt = torch.optim.Adam([tx], lr=0.01, betas=(0.9, 0.98), eps=1e-9)
    opt = Adam({"x": x})
    for step in range(1, 6):
        g = rng.standard_normal(6)
        for group in topt.param_groups:
            group["lr"] = 0.01 / step
        tx.grad = torch.tensor(g)
        topt.step()
        opt.step({"x": g}, lr=0.01 / step)
    np.testing.assert_allclose(x, tx.detach().numpy(), atol=1e-7)
