"""Parity with Hugging Face transformers + PyTorch on a small random GPT2LMHeadModel.

The HF model is saved with `save_pretrained` and loaded with our `GPT.from_pretrained`, so these
tests also prove the safetensors reader and the name/shape mapping on a real HF-written file.
"""

import copy

import numpy as np
import pytest
from gpt2.model import GPT
from gpt2.optim import AdamW
from gpt2.safetensors_io import read_safetensors, write_safetensors
from gpt2.sample import generate

from shared.testing import oracle

pytestmark = pytest.mark.parity

VOCAB, T = 97, 16


@pytest.fixture(scope="module")
def hf_pair(tmp_path_factory):
    """(hf model, our model loaded from its save_pretrained folder, folder)."""
    torch = oracle("torch")
    transformers = oracle("transformers")
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=VOCAB, n_positions=32, n_embd=32, n_layer=2, n_head=4,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    )  # fmt: skip
    hf = transformers.GPT2LMHeadModel(config)
    with torch.no_grad():  # nonzero biases and LayerNorm gains, so every parameter matters
        for name, p in hf.named_parameters():
            if name.endswith("bias") or "ln_" in name:
                p.add_(0.1 * torch.randn_like(p))
    hf.eval()
    folder = tmp_path_factory.mktemp("hf_gpt2")
    hf.save_pretrained(folder)
    return hf, GPT.from_pretrained(folder), folder


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, VOCAB, (3, T))
    targets = np.full_like(idx, -1)
    targets[:, :-1] = idx[:, 1:]  # HF shifts labels inside the model; we pass shifted targets
    return idx, targets


def _hf_loss(hf, torch, idx):
    out = hf(torch.tensor(idx), labels=torch.tensor(idx))
    return out.logits, out.loss


def test_logits_and_loss_equal_hugging_face(hf_pair):
    torch = oracle("torch")
    hf, ours, _ = hf_pair
    idx, targets = _batch()
    with torch.no_grad():
        hf_logits, hf_loss = _hf_loss(hf, torch, idx)
    logits, loss = ours(idx, targets)
    np.testing.assert_allclose(logits, hf_logits.numpy(), atol=1e-4)
    assert loss == pytest.approx(hf_loss.item(), abs=1e-5)


def test_every_gradient_equals_pytorch_autograd(hf_pair):
    torch = oracle("torch")
    hf, ours, _ = hf_pair
    idx, targets = _batch(1)
    hf.zero_grad()
    _hf_loss(hf, torch, idx)[1].backward()
    ours.zero_grad()
    ours(idx, targets)
    ours.backward()
    theirs = dict(hf.named_parameters())
    assert set(theirs) == set(ours.named_parameters())
    for name, p in ours.named_parameters().items():
        reference = theirs[name].grad.numpy()
        error = np.abs(p.grad - reference).max() / np.abs(reference).max()
        assert error < 1e-4, f"{name}: relative error {error:.2e}"


def test_greedy_generation_equals_hugging_face_generate(hf_pair):
    torch = oracle("torch")
    hf, ours, _ = hf_pair
    idx = np.random.default_rng(2).integers(0, VOCAB, (2, 5))
    with torch.no_grad():
        expected = hf.generate(
            torch.tensor(idx), attention_mask=torch.ones(2, 5, dtype=torch.long), max_new_tokens=12,
            do_sample=False, pad_token_id=0,
        )[:, 5:].numpy()  # fmt: skip
    got = np.stack(list(generate(ours, idx.tolist(), 12, temperature=0.0)), axis=1)
    np.testing.assert_array_equal(got, expected)


def test_left_padded_batch_generation_equals_hugging_face(hf_pair):
    torch = oracle("torch")
    hf, ours, _ = hf_pair
    rng = np.random.default_rng(3)
    prompts = [rng.integers(1, VOCAB, 3).tolist(), rng.integers(1, VOCAB, 6).tolist()]
    ids = torch.tensor([[0] * 3 + prompts[0], prompts[1]])
    mask = torch.tensor([[0] * 3 + [1] * 3, [1] * 6])
    with torch.no_grad():
        expected = hf.generate(ids, attention_mask=mask, max_new_tokens=8, do_sample=False, pad_token_id=0)
    got = np.stack(list(generate(ours, prompts, 8, temperature=0.0)), axis=1)
    np.testing.assert_array_equal(got, expected[:, 6:].numpy())


def test_ten_adamw_steps_give_the_same_losses_as_pytorch(hf_pair):
    """llm.c's test_gpt2: repeated AdamW steps on one batch, losses compared step by step."""
    torch = oracle("torch")
    original, _, folder = hf_pair
    hf = copy.deepcopy(original).train()  # the weights saved in `folder`; the fixture's copy stays untouched
    ours = GPT.from_pretrained(folder)
    lr, betas, wd = 1e-3, (0.9, 0.95), 0.1
    decay = [p for p in hf.parameters() if p.dim() >= 2]
    no_decay = [p for p in hf.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=betas,
        eps=1e-8,
    )  # fmt: skip
    ours_optimizer = AdamW(ours.named_parameters(), lr=lr, betas=betas, eps=1e-8, weight_decay=wd)
    idx, targets = _batch(4)
    hf_losses, our_losses = [], []
    for _ in range(10):
        optimizer.zero_grad()
        loss = _hf_loss(hf, torch, idx)[1]
        loss.backward()
        optimizer.step()
        hf_losses.append(loss.item())
        ours.zero_grad()
        our_losses.append(ours(idx, targets)[1])
        ours.backward()
        ours_optimizer.step()
    assert hf_losses[-1] < hf_losses[0] - 0.1  # the steps really train
    np.testing.assert_allclose(our_losses, hf_losses, atol=1e-4)


def test_hf_file_has_the_names_we_expect(hf_pair):
    _, _, folder = hf_pair
    tensors = read_safetensors(folder / "model.safetensors")
    assert any(name.endswith("h.0.attn.c_attn.weight") for name in tensors)


def test_our_safetensors_file_reads_with_the_safetensors_library(tmp_path):
    numpy_api = oracle("safetensors.numpy")
    rng = np.random.default_rng(0)
    tensors = {"a": rng.standard_normal((3, 4)).astype(np.float32), "b.c": np.arange(5, dtype=np.float32)}
    write_safetensors(tmp_path / "x.safetensors", tensors, metadata={"format": "pt"})
    loaded = numpy_api.load_file(str(tmp_path / "x.safetensors"))
    assert set(loaded) == set(tensors)
    for name in tensors:
        np.testing.assert_array_equal(loaded[name], tensors[name])


@pytest.mark.parametrize("dtype_name", ["float32", "float16", "bfloat16"])
def test_safetensors_library_files_read_as_float32(tmp_path, dtype_name):
    torch = oracle("torch")
    torch_api = oracle("safetensors.torch")
    x = torch.randn(4, 6).to(getattr(torch, dtype_name))
    torch_api.save_file({"x": x, "y": x[0].clone()}, str(tmp_path / "t.safetensors"))
    loaded = read_safetensors(tmp_path / "t.safetensors")
    assert loaded["x"].dtype == np.float32
    np.testing.assert_array_equal(loaded["x"], x.float().numpy())
    np.testing.assert_array_equal(loaded["y"], x[0].float().numpy())


def test_our_save_pretrained_loads_in_hugging_face(tmp_path):
    torch = oracle("torch")
    transformers = oracle("transformers")
    from gpt2.model import GPTConfig

    ours = GPT(GPTConfig(vocab_size=VOCAB, n_positions=32, n_embd=32, n_layer=2, n_head=4), seed=7)
    ours.save_pretrained(tmp_path)
    hf = transformers.GPT2LMHeadModel.from_pretrained(tmp_path).eval()
    idx = np.random.default_rng(5).integers(0, VOCAB, (2, 10))
    with torch.no_grad():
        hf_logits = hf(torch.tensor(idx)).logits.numpy()
    np.testing.assert_allclose(ours(idx)[0], hf_logits, atol=1e-4)


def test_nanogpt_reference_run_is_seeded_and_learns():
    torch = oracle("torch")
    from gpt2.reference import SETTINGS, run_nanogpt

    small = {**SETTINGS, "n_layer": 1, "n_head": 2, "n_embd": 16, "block_size": 8, "batch_size": 4,
             "max_iters": 30, "warmup_iters": 5}  # fmt: skip
    text = "to be or not to be, that is the question. " * 40
    first, again = run_nanogpt(torch, text, 0, small), run_nanogpt(torch, text, 0, small)
    assert first == again
    vocab = len(set(text))
    assert first["val_loss_200"] < np.log(vocab)  # below a uniform guess after 30 steps
