"""The command line: its shape (commands, common options, default outputs), train -> sample, and clear errors."""

import json

import pytest
from gpt2.__main__ import main
from gpt2.model import GPT, GPTConfig

from shared.testing import data_or_skip

TINY_TRAIN = ["--max-iters", "3", "--n-layer", "1", "--n-head", "2", "--n-embd", "16", "--block-size", "16",
              "--batch-size", "2", "--eval-iters", "1", "--final-eval-iters", "1", "--sample-tokens", "5"]  # fmt: skip
COMMANDS = ("train", "sample", "repro", "figures", "bench", "reference")


def test_help_lists_every_command_and_the_common_options(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert all(name in text for name in COMMANDS)
    for command in COMMANDS:
        assert main([command, "--help"]) == 0
        text = capsys.readouterr().out
        assert all(option in text for option in ("--out", "--seed", "--threads", "--force")), command
    main(["repro", "--help"])
    assert "--only" in (text := capsys.readouterr().out) and "--seeds" in text and "shakespeare_char_cpu" in text
    main(["bench", "--help"])
    assert "--only" in capsys.readouterr().out


def test_usage_mistakes_are_one_error_line_and_exit_2(capsys):
    for argv, wanted in [(["train", "--tokenizer", "bytes"], "--tokenizer"), (["train", "--lr", "nan"], "--lr"),
                         (["repro", "--only", "nope"], "--only"), (["sample"], "--model"),
                         (["train", "--threads", "0"], "--threads"), (["train", "--n-layer", "100000"], "--n-layer"),
                         (["sample", "--model", "m", "--temperature", "inf"], "--temperature")]:  # fmt: skip
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error:") and wanted in err and len(err.strip().splitlines()) == 1, argv


def test_default_command_is_train_into_runs_folder_then_sample_finds_it(tmp_path, monkeypatch, capsys):
    data_or_skip("tinyshakespeare.txt")
    monkeypatch.chdir(tmp_path)
    assert main(TINY_TRAIN) == 0  # no command: train
    out = capsys.readouterr().out
    run = tmp_path / "runs/08_gpt2/train"
    assert out.startswith("train | seed 1337 | threads: 1") and f"wrote {'runs/08_gpt2/train'}" in out
    assert json.loads((run / "results.json").read_text())["iters"] == 3
    assert main(["sample", "--model", "runs/08_gpt2/train/model", "--prompt", "ROMEO:", "--max-new-tokens", "8"]) == 0
    assert capsys.readouterr().out.startswith("ROMEO:")
    # a second run into the same folder refuses unless --force, or unless it resumes that run
    assert main(TINY_TRAIN) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["train", *TINY_TRAIN[:-6], "--max-iters", "5", "--resume"]) == 0
    assert "resumed from runs/08_gpt2/train/ckpt.npz at iteration 3" in capsys.readouterr().out
    assert main(["train", *TINY_TRAIN, "--force"]) == 0


def test_train_then_sample_on_tiny_shakespeare(tmp_path, capsys):
    data_or_skip("tinyshakespeare.txt")
    assert main(["train", *TINY_TRAIN, "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "results.json").read_text())["iters"] == 3
    capsys.readouterr()
    assert main(["sample", "--model", str(tmp_path / "model"), "--prompt", "ROMEO:", "--max-new-tokens", "8"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("ROMEO:") and len(out.out.rstrip("\n")) >= len("ROMEO:") + 1
    assert "context is full" not in out.err
    assert main(["figures", "--run", str(tmp_path), "--out", str(tmp_path / "figs")]) == 0
    assert {p.name for p in (tmp_path / "figs").iterdir()} == {"loss.png", "attention.png"}


def test_sample_a_batch_and_report_the_context_limit(tmp_path, capsys):
    GPT(GPTConfig(vocab_size=3, n_positions=10, n_embd=8, n_layer=1, n_head=2)).save_pretrained(tmp_path)
    (tmp_path / "tokenizer.json").write_text(json.dumps({"type": "char", "chars": "ab\n"}))
    code = main(["sample", "--model", str(tmp_path), "--prompt", "ab", "--prompt", "b", "--max-new-tokens", "20",
                 "--temperature", "0.7", "--top-p", "0.9", "--seed", "1"])  # fmt: skip
    out = capsys.readouterr()
    assert code == 0
    assert "=== prompt 1 ===\nab" in out.out and "=== prompt 2 ===\nb" in out.out
    assert "context is full at n_positions=10" in out.err


def test_clear_errors_instead_of_tracebacks(tmp_path, capsys):
    assert main(["sample", "--model", str(tmp_path / "nowhere")]) == 2
    assert "not a folder" in capsys.readouterr().err
    GPT(GPTConfig(vocab_size=3, n_positions=10, n_embd=8, n_layer=1, n_head=2)).save_pretrained(tmp_path)
    (tmp_path / "tokenizer.json").write_text(json.dumps({"type": "char", "chars": "ab\n"}))
    assert main(["sample", "--model", str(tmp_path), "--prompt", "xyz"]) == 2
    assert "not in the model's vocabulary" in capsys.readouterr().err
    assert main(["sample", "--model", str(tmp_path), "--prompt", "a" * 11]) == 2
    assert "context is 10" in capsys.readouterr().err
    assert main(["sample", "--model", str(tmp_path), "--top-p", "1.5"]) == 2
    assert "--top-p" in capsys.readouterr().err
    assert main(["train", "--max-iters", "2", "--lr", "-1", "--out", str(tmp_path / "t")]) == 2
    assert "lr" in capsys.readouterr().err
    assert main(["train", "--tokenizer", "bytes"]) == 2
    assert main(["figures", "--run", str(tmp_path / "nothing")]) == 2
    assert "python -m gpt2 train" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert main(["train", "--out", str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err


@pytest.mark.parametrize("threads", ["1", "2"])
def test_bench_runs_with_the_threads_it_is_given(tmp_path, capsys, threads):
    assert main(["bench", "--only", "train", "--repeats", "1", "--threads", threads, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"threads: {threads}" in out and f"--- train (threads={threads}) ---" in out
    assert "ours_step_seconds" in json.loads((tmp_path / "bench.json").read_text())["train"]


def test_a_config_preset_fills_the_options_not_given(monkeypatch):
    import gpt2.__main__ as cli

    seen = {}
    monkeypatch.setattr("gpt2.train.train", lambda cfg, out, **kwargs: seen.update(cfg=cfg, **kwargs))
    monkeypatch.setattr(cli, "prepare_out", lambda args, resumable=False: __import__("pathlib").Path("unused"))
    monkeypatch.setattr(cli, "wrote", lambda *paths: None)
    assert main(["train", "--config", "shakespeare-char-gpu", "--device", "cpu", "--n-layer", "2"]) == 0
    cfg = seen["cfg"]
    assert (cfg.n_layer, cfg.n_head, cfg.n_embd, cfg.block_size, cfg.batch_size) == (2, 6, 384, 256, 64)
    assert (cfg.dropout, cfg.max_iters, cfg.eval_iters, cfg.beta2) == (0.2, 5000, 200, 0.99)
    assert seen["keep_best"] and seen["device"] == "cpu"


def test_cuda_without_cupy_or_a_gpu_is_a_clear_error(tmp_path, capsys):
    from gpt2.device import gpu_available

    if gpu_available():
        pytest.skip("a GPU is present")
    assert main(["train", "--device", "cuda", "--out", str(tmp_path / "r")]) == 2
    assert "needs CuPy and an NVIDIA GPU" in capsys.readouterr().err
