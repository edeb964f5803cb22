"""The command line: learn/apply (files and pipes), encode/decode, train, toy, demo and errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from bpe.__main__ import main
from bpe.sennrich import read_codes

CORPUS = "low low low low low lower lower newest newest newest newest newest newest widest widest widest\n"


def test_learn_and_apply_with_files(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    codes = tmp_path / "codes"
    main(["learn", "-s", "10", "-i", str(corpus), "-o", str(codes)])
    version, merges = read_codes(codes)
    assert version == (0, 2) and merges[0] == ("s", "t</w>") and len(merges) == 10
    text = tmp_path / "in.txt"
    text.write_bytes(b"lower newest\r\nslow\n")
    main(["apply", "-c", str(codes), "-i", str(text)])
    assert capsys.readouterr().out == "lo@@ w@@ e@@ r newest\r\ns@@ low\n"


def test_learn_and_apply_through_pipes(tmp_path):
    env = {**os.environ, "PYTHONIOENCODING": "latin-1"}  # the CLI must use UTF-8 regardless
    learned = subprocess.run(
        [sys.executable, "-m", "bpe", "learn", "-s", "10"],
        input=CORPUS.encode(),
        capture_output=True,
        check=True,
        env=env,
    )
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


def test_cli_errors_are_messages_not_tracebacks(tmp_path):
    with pytest.raises(SystemExit, match="no such codes file"):
        main(["apply", "-c", str(tmp_path / "missing")])
    bad = tmp_path / "bad.codes"
    bad.write_text("#version: 0.2\na b c\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="invalid line 2"):
        main(["apply", "-c", str(bad), "-i", str(bad)])
    with pytest.raises(SystemExit, match="num_symbols"):
        main(["learn", "-s", "-3", "-i", str(bad)])
    with pytest.raises(SystemExit, match="no such file"):
        main(["learn", "-i", str(tmp_path / "nope.txt")])
    with pytest.raises(SystemExit, match="neither a file"):
        main(["train", "--input", "nope.txt", "--out", str(tmp_path)])


def test_encode_and_decode(tmp_path, capsys, gpt2):
    text = tmp_path / "t.txt"
    text.write_text("hello world", encoding="utf-8")
    main(["encode", "--encoding", "gpt2", "-i", str(text)])
    assert capsys.readouterr().out.split() == ["31373", "995"]
    ids = tmp_path / "ids.txt"
    ids.write_text("31373 995\n", encoding="utf-8")
    main(["decode", "--encoding", "gpt2", "-i", str(ids)])
    assert capsys.readouterr().out == "hello world"
    text.write_text("a<|endoftext|>", encoding="utf-8")
    with pytest.raises(SystemExit, match="disallowed special token"):
        main(["encode", "-i", str(text)])
    main(["encode", "--allow-special", "--encoding", "cl100k_base", "-i", str(text)])
    assert capsys.readouterr().out.split()[-1] == "100257"
    ids.write_text("31373 99999999\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="not in the gpt2 vocabulary"):
        main(["decode", "-i", str(ids)])


def test_train_prints_merges_and_saves_models(tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat with the other cat\n" * 20, encoding="utf-8")
    main(["train", "--input", str(corpus), "--vocab-size", "270", "--out", str(tmp_path / "models")])
    out = capsys.readouterr().out
    assert "merge 1/14:" in out and "merge 14/14:" in out
    for kind in ("basic", "regex"):
        assert (tmp_path / "models" / f"{kind}.model").is_file()
        assert (tmp_path / "models" / f"{kind}.vocab").is_file()
    with pytest.raises(SystemExit, match="vocab_size"):
        main(["train", "--input", str(corpus), "--vocab-size", "10", "--out", str(tmp_path)])


def test_toy_prints_the_papers_merges(capsys):
    main(["toy"])
    out = capsys.readouterr().out
    assert "merge  1: e s -> es" in out and "merge  1: s t</w> -> st</w>" in out


def test_demo_runs(capsys, taylorswift):
    main([])
    assert "round trip exact: True" in capsys.readouterr().out


def test_repro_writes_results_json(tmp_path, taylorswift):
    main(["repro", "--only", "taylorswift_512", "--out", str(tmp_path)])
    results = json.loads((tmp_path / "results.json").read_text())
    metrics = results["taylorswift_512"]
    assert metrics["vocab_size"] == 512 and metrics["roundtrip_exact"] is True
    assert 0 < metrics["tokens"] < len(taylorswift.encode())
    assert {"command", "seconds", "seed"} <= set(results)
