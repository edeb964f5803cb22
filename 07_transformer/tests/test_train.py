import re

import numpy as np
import pytest
from transformer.checkpoint import read_checkpoint
from transformer.data import make_copy_data, pad_batch
from transformer.decode import greedy
from transformer.model import Transformer, TransformerConfig
from transformer.train import NonFiniteLossError, RunMismatchError, TrainConfig, averaged_state, train_steps


def copy_setup(seed=0):
    cfg = TransformerConfig(
        src_vocab_size=8, tgt_vocab_size=8, n_layers=1, d_model=32, n_heads=2, d_ff=64, dropout=0.0, max_len=16
    )
    data = [[*s, 2] for s in make_copy_data(3000, 5, 8, np.random.default_rng(seed))]
    return Transformer(cfg, seed=seed), data


def test_copy_task_is_learned_in_a_short_run(tmp_path):
    model, data = copy_setup()
    tc = TrainConfig(steps=300, max_tokens=32 * 6, warmup=50, lr_factor=0.5, label_smoothing=0.0, eval_every=1000)
    history, step = train_steps(model, data, data, tc, tmp_path / "copy.npz", resume=False)
    assert step == 300
    assert history["train_loss"][-1] < 0.05 < history["train_loss"][0]
    held_out = make_copy_data(100, 5, 8, np.random.default_rng(9))
    decoded = greedy(model, pad_batch([[*s, 2] for s in held_out]))
    assert np.mean([d == s for d, s in zip(decoded, held_out)]) >= 0.95


def test_training_resumes_from_its_checkpoint(tmp_path):
    model, data = copy_setup()
    tc = TrainConfig(steps=4, max_tokens=64, warmup=2, eval_every=2, label_smoothing=0.1, keep_last=2)
    train_steps(model, data, data, tc, tmp_path / "run.npz")
    assert read_checkpoint(tmp_path / "run.npz")[1]["step"] == 4
    resumed, _ = copy_setup()
    history, _ = train_steps(
        resumed,
        data,
        data,
        TrainConfig(steps=6, max_tokens=64, warmup=2, eval_every=2, keep_last=2),
        tmp_path / "run.npz",
    )
    assert history["step"][-1] == 6
    assert read_checkpoint(tmp_path / "run.npz")[1]["step"] == 6
    state, files = averaged_state(tmp_path / "run.npz", 2)
    assert len(files) == 2 and set(state) == set(resumed.named_parameters())


def test_gradient_accumulation_equals_one_big_batch(tmp_path):
    """Two micro-batches of summed gradients / total tokens == their concatenation as one batch."""
    from transformer.loss import label_smoothed_cross_entropy
    from transformer.train import make_tensors

    model, data = copy_setup()
    grads = model.named_gradients()
    model.zero_grad()
    n_total = 0
    for index in (np.arange(0, 4), np.arange(4, 8)):
        src, tgt_in, tgt_out = make_tensors(data, data, index)
        logits, cache = model.forward(src, tgt_in)
        _, d, n = label_smoothed_cross_entropy(logits, tgt_out, 0.1, reduction="sum")
        model.backward(d, cache)
        n_total += n
    accumulated = {k: v / n_total for k, v in grads.items()}
    model.zero_grad()
    src, tgt_in, tgt_out = make_tensors(data, data, np.arange(8))
    logits, cache = model.forward(src, tgt_in)
    model.backward(label_smoothed_cross_entropy(logits, tgt_out, 0.1)[1], cache)
    for name, value in accumulated.items():
        np.testing.assert_allclose(value, grads[name], rtol=1e-4, atol=1e-6, err_msg=name)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(steps=0), "steps"),
        (dict(steps=2.5), "steps"),
        (dict(lr_factor=0.0), "lr_factor"),
        (dict(lr_factor=float("nan")), "lr_factor"),
        (dict(lr_factor=float("inf")), "lr_factor"),
        (dict(label_smoothing=1.0), "label_smoothing"),
        (dict(label_smoothing=float("nan")), "label_smoothing"),
    ],
)
def test_bad_training_settings_are_rejected(overrides, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**overrides)


def test_a_stop_signal_saves_a_checkpoint_after_the_current_step(tmp_path):
    import os
    import signal

    from transformer.train import TrainingInterrupted

    model, data = copy_setup()
    calls = []

    def evaluate(step):
        calls.append(step)
        os.kill(os.getpid(), signal.SIGTERM)  # arrives mid-run, like `kill PID`
        return {}

    tc = TrainConfig(steps=50, max_tokens=64, warmup=2, eval_every=3)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(TrainingInterrupted, match="stopped at step 3"):
        train_steps(model, data, data, tc, tmp_path / "run.npz", evaluate=evaluate)
    assert read_checkpoint(tmp_path / "run.npz")[1]["step"] == 3
    assert signal.getsignal(signal.SIGTERM) is before  # the handler the loop found is back


def test_resuming_with_other_settings_is_refused(tmp_path):
    model, data = copy_setup()
    train_steps(model, data, data, TrainConfig(steps=2, max_tokens=64, warmup=2, eval_every=2), tmp_path / "run.npz")
    other = TrainConfig(steps=4, max_tokens=64, warmup=2, eval_every=2, lr_factor=0.5)
    with pytest.raises(RunMismatchError, match=re.escape("lr_factor 1.0 -> 0.5")):
        train_steps(copy_setup()[0], data, data, other, tmp_path / "run.npz")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow on the way to NaN is the point
def test_a_diverging_run_stops_at_once_and_keeps_the_last_good_checkpoint(tmp_path):
    model, data = copy_setup()
    path = tmp_path / "run.npz"
    train_steps(model, data, data, TrainConfig(steps=2, max_tokens=64, warmup=2, eval_every=2), path)
    good = path.read_bytes()
    huge = TrainConfig(steps=40, max_tokens=64, warmup=1, eval_every=40, lr_factor=1e30)  # lr ~ 1e29: diverges
    with pytest.raises(NonFiniteLossError, match="nothing was saved"):
        train_steps(copy_setup()[0], data, data, huge, path, resume=False)
    assert path.read_bytes() == good


def test_a_time_limit_stops_with_a_resumable_checkpoint(tmp_path):
    model, data = copy_setup()
    path = tmp_path / "run.npz"
    tc = TrainConfig(steps=1000, max_tokens=64, warmup=2, eval_every=1000)
    _, step = train_steps(model, data, data, tc, path, max_seconds=0.0)
    assert step == 1 and read_checkpoint(path)[1]["step"] == 1
