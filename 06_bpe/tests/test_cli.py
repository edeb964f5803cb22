"""The command line: its shape (commands, common options, outputs), the filters, train, repro, demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bpe.__main__ import main
from bpe.sennrich import read_codes

CORPUS = "low low low low low lower lower newest newest newest newest newest newest widest widest widest\n"
COMMANDS = ["demo", "toy", "learn", "apply", "encode", "decode", "train", "repro", "bench", "figures"]


def test_help_lists_every_command_and_the_common_options(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(command in out for command in COMMANDS)
    for command in COMMANDS:
        assert main([command, "--help"]) == 0
        out = capsys.readouterr().out
        assert all(option in out for option in ("--out", "--seed", "--threads", "--force")), command
    assert main(["repro", "--help"]) == 0
    assert "--only" in capsys.readouterr().out


def test_usage_mistakes_are_one_error_line(capsys):
    assert main(["train", "--vocab-size", "10"]) == 2
    assert main(["repro", "--only", "nope"]) == 2
    assert main(["learn", "--threads", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 3 and "Traceback" not in err


def test_learn_and_apply_with_files(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    codes = tmp_path / "codes"
    assert main(["learn", "-s", "10", "-i", str(corpus), "-o", str(codes)]) == 0
    assert f"wrote {codes}" in capsys.readouterr().out
    version, merges = read_codes(codes)
    assert version == (0, 2) and merges[0] == ("s", "t</w>") and len(merges) == 10
    text = tmp_path / "in.txt"
    text.write_bytes(b"lower newest\r\nslow\n")
    assert main(["apply", "-c", str(codes), "-i", str(text)]) == 0
    assert capsys.readouterr().out == "lo@@ w@@ e@@ r newest\r\ns@@ low\n"


def test_learn_and_apply_through_pipes(tmp_path):
    env = {**os.environ, "PYTHONIOENCODING": "latin-1"}  # the CLI must use UTF-8 regardless
    learned = subprocess.run(
        [sys.executable, "-m", "bpe", "learn", "-s", "10"], input=CORPUS.encode(), capture_output=True, env=env
    )
    assert learned.returncode == 0, learned.stderr
    assert learned.stdout.decode("utf-8").startswith("#version: 0.2\ns t</w>\n")
    codes = tmp_path / "codes"
    codes.write_bytes(learned.stdout)
    applied = subprocess.run(
        [sys.executable, "-m", "bpe", "apply", "-c", str(codes)],
        input="newest wídest\n".encode(),
        capture_output=True,
        check=True,
        env=env,
    )
    assert applied.stdout.decode("utf-8") == "newest w@@ í@@ d@@ est\n"


def test_filters_refuse_an_out_folder(tmp_path, capsys):
    assert main(["learn", "--out", str(tmp_path), "-i", str(tmp_path / "x")]) == 2
    assert "-o FILE" in capsys.readouterr().err


def test_encode_and_decode(tmp_path, capsys, gpt2):
    text = tmp_path / "t.txt"
    text.write_text("hello world", encoding="utf-8")
    assert main(["encode", "--encoding", "gpt2", "-i", str(text)]) == 0
    assert capsys.readouterr().out.split() == ["31373", "995"]
    ids = tmp_path / "ids.txt"
    ids.write_text("31373 995\n", encoding="utf-8")
    assert main(["decode", "--encoding", "gpt2", "-i", str(ids)]) == 0
    assert capsys.readouterr().out == "hello world"
    text.write_text("a<|endoftext|>", encoding="utf-8")
    assert main(["encode", "-i", str(text)]) == 2
    assert "disallowed special token" in capsys.readouterr().err
    assert main(["encode", "--allow-special", "--encoding", "cl100k_base", "-i", str(text)]) == 0
    assert capsys.readouterr().out.split()[-1] == "100257"
    ids.write_text("31373 99999999\n", encoding="utf-8")
    assert main(["decode", "-i", str(ids)]) == 2
    assert "not in the gpt2 vocabulary" in capsys.readouterr().err


def test_train_writes_models_to_its_folder_and_encode_uses_them(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat with the other cat\n" * 20, encoding="utf-8")
    assert main(["train", "--input", str(corpus), "--vocab-size", "270"]) == 0
    out = capsys.readouterr().out
    assert "merge 1/14:" in out and "merge 14/14:" in out and "threads: 1" in out
    folder = tmp_path / "runs" / "06_bpe" / "train"
    for kind in ("basic", "regex"):
        assert (folder / f"{kind}.model").is_file() and (folder / f"{kind}.vocab").is_file()
        assert f"{folder.relative_to(tmp_path)}/{kind}.model" in out
    # a second run into the same folder refuses (nothing is replaced unasked), --force replaces
    assert main(["train", "--input", str(corpus), "--vocab-size", "270", "-q"]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["train", "--input", str(corpus), "--vocab-size", "270", "-q", "--force"]) == 0
    capsys.readouterr()
    corpus.write_text("the mat", encoding="utf-8")
    for kind in ("basic", "regex"):
        assert main(["encode", "--model", str(folder / f"{kind}.model"), "-i", str(corpus)]) == 0
        ids = capsys.readouterr().out
        ids_file = tmp_path / f"{kind}.ids"
        ids_file.write_text(ids, encoding="utf-8")
        assert main(["decode", "--model", str(folder / f"{kind}.model"), "-i", str(ids_file)]) == 0
        assert capsys.readouterr().out == "the mat"


def test_toy_prints_the_papers_merges(capsys):
    assert main(["toy"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("toy | seed 0 | threads: 1")  # the run header, as every command prints
    assert "merge  1: e s -> es" in out and "merge  1: s t</w> -> st</w>" in out


def test_threads_flag_overrides_a_preset_environment_variable():
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "bpe", "toy", "--threads", "2"], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert "threads: 2" in run.stdout.splitlines()[0]  # the header reads the live BLAS pool, not the flag


def test_demo_is_the_default_command(capsys, taylorswift):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("demo | seed 0 | threads: 1") and "round trip exact: True" in out


def test_repro_writes_results_json_in_its_own_folder(tmp_path, taylorswift, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["repro", "--only", "taylorswift_512"]) == 0
    path = tmp_path / "runs" / "06_bpe" / "repro" / "results.json"
    assert f"wrote {path.relative_to(tmp_path)}" in capsys.readouterr().out
    results = json.loads(path.read_text())
    metrics = results["taylorswift_512"]
    assert metrics["vocab_size"] == 512 and metrics["roundtrip_exact"] is True
    assert 0 < metrics["tokens"] < len(taylorswift.encode())
    assert {"command", "seconds", "seed"} <= set(results) and set(results) - {"command", "seconds", "seed"} == {
        "taylorswift_512"
    }
