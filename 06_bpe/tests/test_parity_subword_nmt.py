"""Parity of `bpe.sennrich` with subword-nmt (the paper's reference code): same merges, same segmentation."""

from __future__ import annotations

import io

import pytest
from bpe.sennrich import BPE, learn_bpe, write_codes

from shared.seeding import make_rng
from shared.testing import oracle

pytestmark = pytest.mark.parity


def reference_codes(lines, num_symbols, min_frequency=2) -> str:
    learn = oracle("subword_nmt.learn_bpe")
    out = io.StringIO()
    learn.learn_bpe(list(lines), out, num_symbols, min_frequency)
    return out.getvalue()


def our_codes(lines, num_symbols, min_frequency=2) -> str:
    out = io.StringIO()
    write_codes(learn_bpe(lines, num_symbols, min_frequency), out)
    return out.getvalue()


def reference_segmenter(codes: str):
    apply = oracle("subword_nmt.apply_bpe")
    return apply.BPE(io.StringIO(codes))


def test_toy_example_matches():
    lines = ["low " * 5, "lower " * 2, "newest " * 6, "widest " * 3]
    assert our_codes(lines, 10) == reference_codes(lines, 10)


def test_tiny_shakespeare_merges_and_segmentation_match(shakespeare):
    # 8,000 lines and 3,000 merges keep this quick; `python -m bpe.bench` checks all 40,000 lines, 10,000 merges
    lines = shakespeare.splitlines(keepends=True)[:8000]
    codes = our_codes(lines, 3000)
    assert codes == reference_codes(lines, 3000)
    ours, ref = BPE(io.StringIO(codes)), reference_segmenter(codes)
    for line in lines:
        assert ours.process_line(line) == ref.process_line(line)


def test_unicode_text_matches(taylorswift):
    lines = taylorswift.splitlines(keepends=True)
    codes = our_codes(lines, 1500)
    assert codes == reference_codes(lines, 1500)
    ours, ref = BPE(io.StringIO(codes)), reference_segmenter(codes)
    for line in lines[:1000]:
        assert ours.process_line(line) == ref.process_line(line)


@pytest.mark.parametrize("seed", range(3))
def test_tie_heavy_random_corpora_match(seed):
    # few letters, short words: many pairs share a count, so the tie-breaking rule decides
    rng = make_rng(seed)
    alphabet = list("abcde")
    lines = [
        " ".join("".join(rng.choice(alphabet, size=int(rng.integers(1, 7)))) for _ in range(int(rng.integers(0, 12))))
        for _ in range(2000)
    ]
    lines = [line + ("\n" if i % 7 else "  \r\n") for i, line in enumerate(lines)]
    min_frequency = 1 + seed % 3
    codes = our_codes(lines, 400, min_frequency)
    assert codes == reference_codes(lines, 400, min_frequency)
    ours, ref = BPE(io.StringIO(codes)), reference_segmenter(codes)
    for line in lines[:500]:
        assert ours.process_line(line) == ref.process_line(line)
    limited_ours = BPE(io.StringIO(codes), merges=50)
    limited_ref = oracle("subword_nmt.apply_bpe").BPE(io.StringIO(codes), merges=50)
    for line in lines[:200]:
        assert limited_ours.process_line(line) == limited_ref.process_line(line)


def test_command_line_matches_subword_nmts(tmp_path):
    oracle("subword_nmt.subword_nmt")
    import subprocess
    import sys

    rng = make_rng(3)
    words = ["".join(rng.choice(list("abcdéf"), size=int(rng.integers(1, 6)))) for _ in range(3000)]
    separators = [" ", " ", " ", "  ", "\n", "\r\n", "\r", "\x0c", "\x85", "\u2028", "\t"]
    text = "".join(word + separators[int(rng.integers(len(separators)))] for word in words)
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(text.encode("utf-8"))

    reference = ["-c", "from subword_nmt.subword_nmt import main; main()"]  # the `subword-nmt` command

    def run(*args: str) -> bytes:
        command = [sys.executable, *args]
        return subprocess.run(command, input=corpus.read_bytes(), capture_output=True, check=True).stdout

    ours = run("-m", "bpe", "learn", "-s", "200")
    assert ours == run(*reference, "learn-bpe", "-s", "200")
    codes = tmp_path / "codes"
    codes.write_bytes(ours)
    assert run("-m", "bpe", "apply", "-c", str(codes)) == run(*reference, "apply-bpe", "-c", str(codes))
