"""Hostile and careless input: each case is a clear error (or the right answer), costs no memory, loses nothing."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from gpt2.__main__ import main
from gpt2.model import GPT, CheckpointError, GPTConfig
from gpt2.sample import sample_next
from gpt2.tokenizer import CharTokenizer, load_tokenizer_file
from gpt2.train import NonFiniteLossError, TrainConfig, load_checkpoint, train

from shared.testing import data_or_skip, run_capped

TINY = GPTConfig(vocab_size=3, n_positions=10, n_embd=8, n_layer=1, n_head=2)
TEXT = "the cat sat on the mat. the dog sat on the log. " * 60
SMALL = dict(n_layer=1, n_head=2, n_embd=16, block_size=16, batch_size=4, eval_iters=2, final_eval_iters=2,
             warmup_iters=2, lr=1e-2, sample_tokens=0, seed=3)  # fmt: skip


def quiet(*args):
    pass


def model_folder(path, config=None, **overrides):
    GPT(TINY).save_pretrained(path)
    (path / "tokenizer.json").write_text(json.dumps({"type": "char", "chars": "ab\n"}))
    raw = {**TINY.to_hf_dict(), **overrides} if config is None else config
    (path / "config.json").write_text(config if isinstance(config, str) else json.dumps(raw))
    return path


# --------------------------------------------------------------------------- model folders


@pytest.mark.parametrize(
    "overrides, message",
    [(dict(n_layer=3_000_000), "n_layer=3000000 is over the limit of 1024"),
     (dict(n_layer=1000, n_embd=4096, n_head=32), "holds only"),  # within the limits, but not in a 19 KB file
     (dict(vocab_size=10**12), "vocab_size"), (dict(n_positions=2.5), "integer"), (dict(n_embd=True), "integer"),
     (dict(layer_norm_epsilon=float("inf")), "finite|not a number"),
     (dict(layer_norm_epsilon=float("nan")), "finite|not a number"),
     (dict(layer_norm_epsilon="1e-5"), "finite"), (dict(dropout=float("nan")), "finite|not a number")],
)  # fmt: skip
def test_config_sizes_and_floats_are_checked_before_the_model_is_built(tmp_path, overrides, message):
    raw = {**TINY.to_hf_dict(), **overrides}
    folder = model_folder(tmp_path, raw)
    with pytest.raises(CheckpointError, match=message):
        GPT.from_pretrained(folder)


def test_a_huge_config_in_a_small_folder_is_a_clean_error_under_a_2gb_cap(tmp_path):
    folder = model_folder(tmp_path / "m", n_layer=3_000_000)
    assert (folder / "model.safetensors").stat().st_size < 20_000
    result = run_capped("gpt2", ["sample", "--model", str(folder)], cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error:") and "n_layer" in result.stderr and "Traceback" not in result.stderr
    folder = model_folder(tmp_path / "m2", n_layer=1000, n_embd=4096, n_head=32)
    result = run_capped("gpt2", ["sample", "--model", str(folder)], cwd=tmp_path)
    assert result.returncode == 2 and "holds only" in result.stderr, result.stderr


def test_json_nested_200000_deep_is_an_error_not_a_recursion_error(tmp_path, capsys):
    deep = "[" * 200_000 + "]" * 200_000
    folder = model_folder(tmp_path / "config", deep)
    assert main(["sample", "--model", str(folder)]) == 2
    assert "nested" in capsys.readouterr().err
    folder = model_folder(tmp_path / "tok")
    (folder / "tokenizer.json").write_text('{"type": ' + deep + "}")
    assert main(["sample", "--model", str(folder)]) == 2
    assert "nested" in capsys.readouterr().err


@pytest.mark.parametrize("content", ["[1, 2]", '"char"', "{not json", '{"type": "char", "chars": 5}'])
def test_a_tokenizer_json_that_is_not_a_description_is_an_error(tmp_path, capsys, content):
    folder = model_folder(tmp_path)
    (folder / "tokenizer.json").write_text(content)
    with pytest.raises(ValueError):
        load_tokenizer_file(folder / "tokenizer.json")
    assert main(["sample", "--model", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err


def test_nan_weights_are_refused_on_loading(tmp_path, capsys):
    model = GPT(TINY)
    model.params["transformer.h.0.mlp.c_fc.weight"].data[0, 0] = np.nan
    model.save_pretrained(tmp_path)
    (tmp_path / "tokenizer.json").write_text(json.dumps({"type": "char", "chars": "ab\n"}))
    assert main(["sample", "--model", str(tmp_path)]) == 2
    assert "NaN or infinity" in capsys.readouterr().err


def test_a_truncated_weights_file_is_an_error(tmp_path, capsys):
    folder = model_folder(tmp_path)
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    assert main(["sample", "--model", str(folder)]) == 2
    assert capsys.readouterr().err.startswith("error:")


# --------------------------------------------------------------------------- sampling


def test_nan_and_tiny_temperatures_never_print_token_zero_silently(tmp_path, capsys):
    logits = np.array([[0.0, 1.0, 5.0]])
    rng = np.random.default_rng(0)
    for temperature in (float("nan"), float("inf"), -1.0):
        with pytest.raises(ValueError, match="temperature"):
            sample_next(logits, rng, temperature=temperature)
    assert sample_next(logits, rng, temperature=1e-320)[0] == 2  # the greedy limit, not token 0
    with pytest.raises(ValueError, match="NaN or infinite logits"):
        sample_next(np.array([[np.nan, 1.0, 2.0]]), rng)
    folder = model_folder(tmp_path)
    assert main(["sample", "--model", str(folder), "--temperature", "nan"]) == 2
    assert "finite" in capsys.readouterr().err


def test_decoding_refuses_ids_that_are_not_integers():
    tokenizer = CharTokenizer("ab")
    for ids in ([65.0], [True], ["0"]):
        with pytest.raises(ValueError, match="integers"):
            tokenizer.decode(ids)
    assert tokenizer.decode(np.array([1, 0])) == "ba"


# --------------------------------------------------------------------------- training checkpoints


def test_truncated_and_crafted_training_checkpoints_are_errors(tmp_path):
    train(TrainConfig(max_iters=1, **SMALL), tmp_path / "run", text=TEXT, log=quiet)
    data = (tmp_path / "run/ckpt.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a training checkpoint"):
        load_checkpoint(tmp_path / "cut.npz")
    # a .npy header that claims (10^6, 10^6) float32 (4 TB) in a few bytes
    header = np.lib.format.header_data_from_array_1_0(np.zeros((1,), np.float32))
    header["shape"] = (10**6, 10**6)
    import io
    import zipfile

    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, header)
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as archive:
        archive.writestr("param/transformer.wte.weight.npy", member.getvalue() + b"\0" * 64)
        archive.writestr("meta.npy", b"")
    with pytest.raises(ValueError, match="not a training checkpoint"):
        load_checkpoint(tmp_path / "huge.npz")


def test_a_checkpoint_with_a_negative_step_is_refused(tmp_path):
    from shared import checkpoint

    train(TrainConfig(max_iters=1, **SMALL), tmp_path, text=TEXT, log=quiet)
    arrays, meta = checkpoint.load(tmp_path / "ckpt.npz")
    checkpoint.save(tmp_path / "bad.npz", arrays, {**meta, "step": -100})
    with pytest.raises(ValueError, match="step must be an integer >= 0"):
        load_checkpoint(tmp_path / "bad.npz")


def test_a_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    cfg = TrainConfig(max_iters=6, eval_interval=2, **SMALL)
    forward = GPT.forward
    calls = {"n": 0}

    def poisoned(self, idx, targets=None):
        logits, loss = forward(self, idx, targets)
        calls["n"] += 1
        if self.training and calls["n"] > 10:  # step 2's update, after its checkpoint (4 eval + 2 + 4 eval forwards)
            loss = float("nan")
        return logits, loss

    monkeypatch.setattr(GPT, "forward", poisoned)
    with pytest.raises(NonFiniteLossError, match="the loss became nan"):
        train(cfg, tmp_path, text=TEXT, log=quiet)
    meta, arrays = load_checkpoint(tmp_path / "ckpt.npz")
    assert meta["step"] == 2 and all(np.isfinite(a).all() for a in arrays.values())


def test_non_finite_hyperparameters_are_refused():
    for bad in (dict(weight_decay=float("nan")), dict(grad_clip=float("nan")), dict(lr=float("inf")),
                dict(dropout=float("nan")), dict(max_iters=2.5), dict(batch_size=True)):  # fmt: skip
        with pytest.raises(ValueError):
            TrainConfig(**bad)


def test_a_batch_too_large_for_memory_is_refused_under_a_2gb_cap(tmp_path):
    data_or_skip("tinyshakespeare.txt")
    result = run_capped(
        "gpt2", ["train", "--batch-size", "1000000", "--block-size", "4096", "--out", "r"], cwd=tmp_path
    )
    assert result.returncode == 2 and result.stderr.startswith("error:"), result.stderr
    assert "memory" in result.stderr and "Traceback" not in result.stderr


def test_sigterm_saves_a_checkpoint_that_resumes(tmp_path, monkeypatch, capsys):
    data_or_skip("tinyshakespeare.txt")
    options = ["--eval-interval", "100000", "--n-layer", "1", "--n-embd", "16", "--n-head", "2", "--block-size", "16",
               "--eval-iters", "1", "--final-eval-iters", "1", "--sample-tokens", "0", "--out", "run"]  # fmt: skip
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    command = [sys.executable, "-m", "gpt2", "train", "--max-iters", "100000", *options]
    pipes = dict(stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    process = subprocess.Popen(command, cwd=tmp_path, env=env, **pipes)
    watchdog = threading.Timer(240, process.kill)  # never hang the suite
    watchdog.start()
    try:
        for line in process.stdout:  # wait until training has started
            if line.startswith("step 0"):
                break
        time.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=120)
    finally:
        watchdog.cancel()
    assert process.returncode == 130, out
    assert "interrupted at iteration" in out and "continue with --resume" in out
    meta, _ = load_checkpoint(tmp_path / "run/ckpt.npz")
    step = meta["step"]
    assert step > 0 and len(meta["history"]["loss"]) == step
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--max-iters", str(step + 2), *options, "--resume"]) == 0
    assert f"resumed from run/ckpt.npz at iteration {step}" in capsys.readouterr().out
    assert load_checkpoint(tmp_path / "run/ckpt.npz")[0]["history"]["iter"] == list(range(step + 2))


# --------------------------------------------------------------------------- the GPT-2 tokenizer against tiktoken


def test_lone_surrogates_encode_as_tiktoken(gpt2_tokenizer):
    assert gpt2_tokenizer.encode("\ud800") == [4210]  # tiktoken: U+FFFD
    assert gpt2_tokenizer.encode("\ud83d\ude00") == gpt2_tokenizer.encode("😀")  # a valid pair is joined


def test_code_points_newer_than_tiktokens_unicode_split_as_tiktoken(gpt2_tokenizer):
    # tiktoken 0.14 (Unicode 16.0): these are not letters, so "'" joins them and "s" stands alone
    assert gpt2_tokenizer.encode("\U00032d6e's") == [172, 110, 113, 106, 6, 82]
    assert gpt2_tokenizer.encode("\u0558's") == [145, 246, 6, 82]
    assert gpt2_tokenizer.encode("\U00031350's")[-1] == 338  # Unicode 15.0: a letter to both, "'s" is one token


def test_a_10000_letter_word_merges_in_well_under_a_second(gpt2_tokenizer):
    word = "".join(np.random.default_rng(0).choice(list("abcdefghijklmnopqrstuvwxyz"), 10_000))
    started = time.process_time()
    ids = gpt2_tokenizer.encode(word)
    assert time.process_time() - started < 2.0  # was 4 s with the quadratic merge
    assert gpt2_tokenizer.decode(ids) == word
