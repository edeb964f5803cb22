"""The command line: train -> sample round trip, streaming, batches, and clear errors."""

import json

import pytest
from gpt2.__main__ import main
from gpt2.model import GPT, GPTConfig

TINY_TRAIN = ["--max-iters", "3", "--n-layer", "1", "--n-head", "2", "--n-embd", "16", "--block-size", "16",
              "--batch-size", "2", "--eval-iters", "1", "--final-eval-iters", "1", "--sample-tokens", "5"]  # fmt: skip


def test_train_then_sample_on_tiny_shakespeare(tmp_path, capsys):
    from conftest import data_or_skip

    data_or_skip("tinyshakespeare.txt")
    assert main(["train", *TINY_TRAIN, "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "results.json").read_text())["iters"] == 3
    capsys.readouterr()
    assert main(["sample", "--model", str(tmp_path / "model"), "--prompt", "ROMEO:", "--max-new-tokens", "8"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("ROMEO:") and len(out.out.rstrip("\n")) >= len("ROMEO:") + 1
    assert "context is full" not in out.err


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
    with pytest.raises(SystemExit):
        main(["train", "--tokenizer", "bytes"])
