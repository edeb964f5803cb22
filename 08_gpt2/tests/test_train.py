"""The training loop on a small generated text: it learns, writes its outputs, and resumes exactly."""

import json

import numpy as np
import pytest
from gpt2.model import GPT
from gpt2.train import TrainConfig, get_batch, load_checkpoint, train

TEXT = "the cat sat on the mat. the dog sat on the log. " * 60
SMALL = dict(n_layer=1, n_head=2, n_embd=16, block_size=16, batch_size=4, eval_iters=2, final_eval_iters=2,
             warmup_iters=2, lr=1e-2, sample_tokens=20, seed=3)  # fmt: skip


def quiet(*args):
    pass


def test_training_lowers_the_loss_and_writes_every_output(tmp_path):
    metrics = train(TrainConfig(max_iters=40, eval_interval=20, **SMALL), tmp_path, text=TEXT, log=quiet)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["val_loss"] == metrics["val_loss"] < 2.0  # from ln(14) = 2.64 at the start
    assert {"command", "seconds", "seed", "train_loss", "tokens_per_second", "mfu"} <= set(results)
    for name in ("loss.png", "ckpt.npz", "sample.txt", "model/config.json", "model/model.safetensors"):
        assert (tmp_path / name).is_file(), name
    model = GPT.from_pretrained(tmp_path / "model")
    assert model.config.vocab_size == len(set(TEXT)) == 14
    assert json.loads((tmp_path / "model/tokenizer.json").read_text())["type"] == "char"


def test_resume_continues_the_same_loss_curve(tmp_path):
    cfg = dict(eval_interval=3, lr_decay_iters=8, dropout=0.1, **SMALL)
    train(TrainConfig(max_iters=8, **cfg), tmp_path / "straight", text=TEXT, log=quiet)
    train(TrainConfig(max_iters=4, **cfg), tmp_path / "first", text=TEXT, log=quiet)
    train(TrainConfig(max_iters=8, **cfg), tmp_path / "first", resume=tmp_path / "first/ckpt.npz", text=TEXT,
          log=quiet)  # fmt: skip
    straight, _ = load_checkpoint(tmp_path / "straight/ckpt.npz")
    resumed, _ = load_checkpoint(tmp_path / "first/ckpt.npz")
    assert resumed["history"]["iter"] == list(range(8))
    np.testing.assert_allclose(resumed["history"]["loss"], straight["history"]["loss"], rtol=1e-6)
    resumed_evals = dict(zip(resumed["history"]["eval_iter"], resumed["history"]["val_loss"]))
    for step, val_loss in zip(straight["history"]["eval_iter"], straight["history"]["val_loss"]):
        assert resumed_evals[step] == pytest.approx(val_loss, rel=1e-6)  # (the resumed run also evaluated at 4)


def test_resume_refuses_a_different_model_or_a_foreign_file(tmp_path):
    train(TrainConfig(max_iters=1, **SMALL), tmp_path, text=TEXT, log=quiet)
    with pytest.raises(ValueError, match="different model: n_embd=32 vs 16"):
        train(TrainConfig(max_iters=2, **{**SMALL, "n_embd": 32}), tmp_path, resume=tmp_path / "ckpt.npz",
              text=TEXT, log=quiet)  # fmt: skip
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a training checkpoint"):
        train(TrainConfig(max_iters=2, **SMALL), tmp_path, resume=tmp_path / "junk.npz", text=TEXT, log=quiet)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.npz")


@pytest.mark.parametrize(
    "kwargs, message",
    [(dict(tokenizer="bytes"), "tokenizer"), (dict(batch_size=0), "batch_size"), (dict(lr=0), "lr"),
     (dict(min_lr=1.0), "min_lr"), (dict(beta2=1.0), "betas"), (dict(max_iters=-1), "max_iters")],
)  # fmt: skip
def test_bad_training_settings_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_batches_are_next_token_windows():
    data = np.arange(100, dtype=np.uint16)
    x, y = get_batch(data, 5, 8, np.random.default_rng(0))
    assert x.shape == y.shape == (5, 8)
    np.testing.assert_array_equal(y, x + 1)
    np.testing.assert_array_equal(x[:, 1:], x[:, :-1] + 1)
    with pytest.raises(ValueError, match="shorter than block_size"):
        get_batch(data[:8], 1, 8, np.random.default_rng(0))


def test_gradient_accumulation_of_two_halves_equals_one_full_batch():
    """backward(scale=1/2) on each half of a batch sums to the full batch's gradient (equal-sized halves)."""
    from gpt2.model import GPTConfig

    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 11, (4, 6)), rng.integers(0, 11, (4, 6))
    model = GPT(GPTConfig(vocab_size=11, n_positions=8, n_embd=8, n_layer=1, n_head=2), dtype=np.float64)
    model(x, y)
    model.backward()
    full = {n: p.grad.copy() for n, p in model.named_parameters().items()}
    model.zero_grad()
    for half in (slice(0, 2), slice(2, 4)):
        model(x[half], y[half])
        model.backward(scale=0.5)
    for name, p in model.named_parameters().items():
        np.testing.assert_allclose(p.grad, full[name], rtol=1e-10, atol=1e-12, err_msg=name)


def test_training_with_gradient_accumulation_runs(tmp_path):
    metrics = train(TrainConfig(max_iters=2, grad_accum=2, **SMALL), tmp_path, text=TEXT, log=quiet)
    assert np.isfinite(metrics["val_loss"])
