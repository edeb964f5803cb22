"""Hostile and careless input: a clear `error:` (exit 2) or ValueError, nothing lost, no huge allocation.

Covers: outputs that are inputs or already exist, ids that are not integers or not in the vocabulary,
bytes that are not UTF-8, JSON and .model files that are lists, nested 200,000 deep, oversized or
crafted to build huge tokens, split patterns that are not the known ones (capturing groups, text left
outside every chunk, catastrophic backtracking), sizes from flags, and code points newer than
tiktoken's Unicode tables. Some run the command in a subprocess under a 2 GB address-space cap.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from bpe import GPT2_SPLIT_PATTERN, BasicTokenizer, GPT2Tokenizer, RegexTokenizer
from bpe.__main__ import main
from bpe.pretrained import RankedBPE
from bpe.regex_tokenizer import GPT4_SPLIT_PATTERN, NEWER_THAN_TIKTOKEN, SplitPattern

from shared.testing import run_capped

CORPUS = "low lower newest widest " * 20 + "\n"


def assert_clean_error(result: subprocess.CompletedProcess, *words: str) -> str:
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert "out of memory" not in err, err
    for word in words:
        assert word in err, err
    return err


# --------------------------------------------------------------------------- nothing is overwritten unasked


def test_learn_refuses_to_write_over_its_input(tmp_path, capsys):
    corpus = tmp_path / "same.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    assert main(["learn", "-s", "20", "-i", str(corpus), "-o", str(corpus), "--force"]) == 2
    assert "also an input" in capsys.readouterr().err
    assert corpus.read_text(encoding="utf-8") == CORPUS


def test_learn_refuses_to_write_over_its_stdin_file(tmp_path):
    corpus = tmp_path / "same.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    with open(corpus, "rb") as stdin:
        result = subprocess.run(
            [sys.executable, "-m", "bpe", "learn", "-o", str(corpus), "--force"], stdin=stdin, capture_output=True
        )
    assert_clean_error(result, "also an input")
    assert corpus.read_text(encoding="utf-8") == CORPUS


def test_an_existing_output_needs_force(tmp_path, capsys):
    corpus, codes = tmp_path / "corpus.txt", tmp_path / "codes"
    corpus.write_text(CORPUS, encoding="utf-8")
    codes.write_text("precious", encoding="utf-8")
    assert main(["learn", "-s", "5", "-i", str(corpus), "-o", str(codes)]) == 2
    assert "--force" in capsys.readouterr().err and codes.read_text(encoding="utf-8") == "precious"
    assert main(["learn", "-s", "5", "-i", str(corpus), "-o", str(codes), "--force"]) == 0
    assert codes.read_text(encoding="utf-8").startswith("#version: 0.2\n")
    assert main(["apply", "-c", str(codes), "-i", str(corpus), "-o", str(codes), "--force"]) == 2
    assert "also an input" in capsys.readouterr().err
    assert main(["learn", "-i", str(corpus), "-o", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_out_naming_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("keep", encoding="utf-8")
    assert main(["repro", "--only", "gpt2", "--out", str(target)]) == 2
    assert "is a file" in capsys.readouterr().err and target.read_text() == "keep"


# --------------------------------------------------------------------------- ids


def tiny_ranked() -> RankedBPE:
    return RankedBPE("tiny", GPT2_SPLIT_PATTERN, {bytes([b]): b for b in range(256)}, {"<|endoftext|>": 256})


@pytest.mark.parametrize("make", [BasicTokenizer, RegexTokenizer, tiny_ranked])
@pytest.mark.parametrize(
    "ids, message",
    [
        ([65.0], "65.0 at position 0 is not an integer"),
        ([65, True], "True at position 1 is not an integer"),
        (["65"], "'65' at position 0 is not an integer"),
        ([65, None], "None at position 1 is not an integer"),
        ([-1], "-1 at position 0 is not in"),
        ([10**30], "at position 0 is not in"),
    ],
)
def test_decode_rejects_ids_that_are_not_integer_token_ids(make, ids, message):
    tokenizer = make()
    with pytest.raises(ValueError, match=message):
        tokenizer.decode(ids)
    assert tokenizer.decode(np.array([72, 105], dtype=np.int64)) == "Hi"  # NumPy integers are integers
    assert tokenizer.decode([]) == ""


@pytest.mark.parametrize("text, message", [("65.0", "'65.0' at position 0"), ("1 -1", "'-1' at position 1")])
def test_decode_command_rejects_ids_that_are_not_integers(tmp_path, capsys, text, message):
    model = tmp_path / "basic.model"
    BasicTokenizer().save(tmp_path / "basic")
    ids = tmp_path / "ids"
    ids.write_text(text, encoding="utf-8")
    assert main(["decode", "--model", str(model), "-i", str(ids)]) == 2
    assert message in capsys.readouterr().err


# --------------------------------------------------------------------------- text that is not UTF-8


def test_bytes_that_are_not_utf8_on_stdin_are_a_clear_error(tmp_path):
    codes = tmp_path / "codes"
    codes.write_text("#version: 0.2\n", encoding="utf-8")
    BasicTokenizer().save(tmp_path / "basic")
    for command in (["learn"], ["apply", "-c", str(codes)], ["encode", "--model", str(tmp_path / "basic.model")]):
        result = run_capped("bpe", command, stdin=b"caf\xe9\n", text=False, timeout=120)
        assert_clean_error(result, "stdin is not UTF-8", "0xe9", "offset 3")


def test_files_that_are_not_utf8_are_a_clear_error(tmp_path, capsys):
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes(b"caf\xe9 au lait\n")
    assert main(["learn", "-i", str(latin1)]) == 2
    assert f"{latin1} is not UTF-8 text (byte 0xe9 at offset 3" in capsys.readouterr().err
    assert main(["train", "--input", str(latin1), "--out", str(tmp_path / "t")]) == 2
    assert "is not UTF-8" in capsys.readouterr().err
    assert main(["apply", "-c", str(latin1), "-i", str(tmp_path / "t" / "missing")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {latin1} is not UTF-8 text (byte 0xe9 at offset 3")
    model = tmp_path / "x.model"
    model.write_bytes(b"minbpe v1\n\xff\n0\n")
    with pytest.raises(ValueError, match="not UTF-8"):
        RegexTokenizer().load(model)


# --------------------------------------------------------------------------- vocabulary files


@pytest.mark.parametrize(
    "encoder, message",
    [
        (b"[1, 2, 3]", "expected a JSON object token -> id, not list"),
        (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
        (b'{"a": 1.5}', "must be an integer"),
        (b'{"a": true}', "must be an integer"),
        (b"{oops", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_hostile_encoder_json_is_refused(encoder, message):
    with pytest.raises(ValueError, match=message):
        GPT2Tokenizer.from_files(b"#version: 0.2\n", encoder)


def test_oversized_vocabulary_files_are_refused_before_reading(tmp_path, monkeypatch):
    import bpe.pretrained

    path = tmp_path / "encoder.json"
    path.write_bytes(b"{}" + b" " * 2000)
    monkeypatch.setattr(bpe.pretrained, "MAX_FILE_BYTES", 1000)
    with pytest.raises(ValueError, match="over the limit of 1,000"):
        GPT2Tokenizer.from_files(b"#version: 0.2\n", path)


def doubling_model(path, merges: int = 40) -> None:
    """Merge i joins token 255 + i with itself: 40 lines that would build a 2**40-byte token."""
    lines = ["minbpe v1", GPT4_SPLIT_PATTERN, "0", "97 97", *(f"{254 + i} {254 + i}" for i in range(2, merges + 1))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_model_file_that_builds_huge_tokens_is_refused_before_building(tmp_path):
    doubling_model(tmp_path / "bomb.model")
    with pytest.raises(ValueError, match="over the limit"):
        RegexTokenizer().load(tmp_path / "bomb.model")


def test_a_model_bomb_is_a_clean_error_under_a_memory_cap(tmp_path):
    doubling_model(tmp_path / "bomb.model")
    result = run_capped(
        "bpe", ["encode", "--model", str(tmp_path / "bomb.model")], stdin=b"hello", text=False, timeout=120
    )
    assert_clean_error(result, "bomb.model", "over the limit")


def test_an_oversized_model_file_is_refused(tmp_path, monkeypatch):
    import bpe.base

    monkeypatch.setattr(bpe.base, "MAX_MODEL_BYTES", 100)
    path = tmp_path / "big.model"
    path.write_text("minbpe v1\n\n0\n" + "97 98\n" * 50, encoding="utf-8")
    with pytest.raises(ValueError, match="over the limit of 100"):
        BasicTokenizer().load(path)


# --------------------------------------------------------------------------- split patterns


def model_with_pattern(path, pattern: str):
    path.write_text(f"minbpe v1\n{pattern}\n0\n97 97\n", encoding="utf-8")
    return path


def test_model_files_with_unknown_patterns_are_refused_unless_allowed(tmp_path, capsys):
    path = model_with_pattern(tmp_path / "evil.model", "(a+)+$")
    with pytest.raises(ValueError, match="not one of the known"):
        RegexTokenizer().load(path)
    assert main(["encode", "--model", str(path), "-i", str(path)]) == 2
    assert "--allow-pattern" in capsys.readouterr().err
    with pytest.raises(ValueError, match="capturing groups"):  # findall would return the group, dropping text
        RegexTokenizer().load(path, allow_pattern=True)
    for pattern in (GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN):
        assert RegexTokenizer().load(model_with_pattern(tmp_path / "ok.model", pattern)).pattern == pattern


def test_an_allowed_pattern_that_skips_text_is_an_error_not_a_loss(tmp_path):
    tokenizer = RegexTokenizer().load(model_with_pattern(tmp_path / "x.model", "(?:a+)+$"), allow_pattern=True)
    with pytest.raises(ValueError, match="outside every chunk"):
        tokenizer.encode("hello aaa")
    words = RegexTokenizer().load(model_with_pattern(tmp_path / "w.model", r"\w+|\W+"), allow_pattern=True)
    assert words.decode(words.encode("hello, aaa world")) == "hello, aaa world"


def test_an_allowed_pattern_that_backtracks_forever_is_stopped(monkeypatch):
    import bpe.regex_tokenizer

    monkeypatch.setattr(bpe.regex_tokenizer, "CUSTOM_PATTERN_SECONDS", 0.2)
    splitter = SplitPattern("(?:a|aa)+$|[^a]|a")  # each try at `a a a ... !` costs Fibonacci(n) steps
    assert splitter.findall("aa!a") == ["a", "a", "!", "a"]
    with pytest.raises(ValueError, match="took more than"):
        splitter.findall("a" * 40 + "!")


def test_known_patterns_need_no_permission_and_custom_ones_from_code_do():
    assert SplitPattern(GPT2_SPLIT_PATTERN, allow_custom=False).findall("I'm  here") == ["I", "'m", " ", " here"]
    with pytest.raises(ValueError, match="not one of the known"):
        SplitPattern(r"\w+|\W+", allow_custom=False)


# --------------------------------------------------------------------------- sizes from flags


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--vocab-size", "1000000000"],
        ["train", "--vocab-size", "nan"],
        ["learn", "-s", "1000000000"],
        ["learn", "--min-frequency", "0"],
        ["apply", "-c", "x", "-m", "-5"],
        ["bench", "--repeats", "100000"],
        ["figures", "--vocab-size", "1000000000"],
    ],
)
def test_sizes_from_flags_are_checked_before_anything_runs(args, capsys):
    assert main(args) == 2
    assert capsys.readouterr().err.startswith("error: argument")


def test_a_missing_input_is_one_error_line(tmp_path, capsys):
    assert main(["train", "--input", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "o")]) == 2
    assert "neither a file nor a registered data file" in capsys.readouterr().err
    assert main(["apply", "-c", str(tmp_path / "missing")]) == 2
    assert "no such codes file" in capsys.readouterr().err


# --------------------------------------------------------------------------- Unicode: tiktoken's tables


@pytest.mark.parametrize("pattern", [GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN])
def test_code_points_newer_than_tiktokens_tables_are_punctuation(pattern):
    splitter = SplitPattern(pattern)
    # U+32D6E (CJK extension J) and U+0558 are letters to the newest `regex` but not to tiktoken 0.14,
    # so they take the apostrophe, as tiktoken cuts them, whatever `regex` version is installed
    assert splitter.findall("\U00032d6e's") == ["\U00032d6e'", "s"]
    assert splitter.findall("x\u0558's") == ["x", "\u0558'", "s"]
    assert splitter.findall("é's") == ["é", "'s"]  # an old letter stays a letter
    for low, high in NEWER_THAN_TIKTOKEN:
        for code in {low, high}:
            assert splitter.findall(f"a{chr(code)}'s") == ["a", f"{chr(code)}'", "s"], hex(code)


def test_lone_surrogates_encode_like_tiktoken():
    tokenizer = tiny_ranked()
    assert tokenizer.encode("\ud800") == list("\ufffd".encode())  # tiktoken: U+FFFD's bytes ([4210] in gpt2)
    assert tokenizer.decode(tokenizer.encode("a\udfffb")) == "a\ufffdb"


def test_model_and_encoding_together_or_a_missing_model_are_one_error_line(tmp_path, capsys):
    BasicTokenizer().save(tmp_path / "basic")
    text = tmp_path / "t.txt"
    text.write_text("hi", encoding="utf-8")
    assert main(["encode", "--model", str(tmp_path / "basic.model"), "--encoding", "gpt2", "-i", str(text)]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["decode", "--model", str(tmp_path / "nope.model"), "-i", str(text)]) == 2
    assert "no such file" in capsys.readouterr().err
