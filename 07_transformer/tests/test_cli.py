import subprocess
import sys

import numpy as np
import pytest
from helpers import tiny_config
from transformer.__main__ import main
from transformer.checkpoint import save_checkpoint
from transformer.data import Vocab
from transformer.model import Transformer


def test_translate_with_a_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="does not exist"):
        main(["translate", "--checkpoint", str(tmp_path / "none.npz"), "ein Hund"])


def test_translate_prints_one_line_per_sentence(tmp_path, capsys):
    vocab = Vocab.build([["ein", "Hund", "läuft", "a", "dog", "runs"]], 1)
    cfg = tiny_config(src_vocab_size=len(vocab), tgt_vocab_size=len(vocab), dtype="float32")
    path = save_checkpoint(tmp_path / "m.npz", Transformer(cfg), 1, None, vocab, vocab)
    main(["translate", "--checkpoint", str(path), "--beam", "2", "ein Hund läuft", "ein unbekanntes Wort"])
    assert len(capsys.readouterr().out.rstrip("\n").split("\n")) == 2


def test_translate_refuses_a_checkpoint_without_vocabularies(tmp_path):
    path = save_checkpoint(tmp_path / "m.npz", Transformer(tiny_config()), 1)
    with pytest.raises(SystemExit, match="vocabularies"):
        main(["translate", "--checkpoint", str(path), "ein Hund"])


def test_unknown_arguments_are_rejected():
    with pytest.raises(SystemExit):
        main(["train", "--no-such-flag"])


def test_module_runs_as_a_program():
    out = subprocess.run([sys.executable, "-m", "transformer", "--help"], capture_output=True, text=True, check=True)
    assert "translate" in out.stdout


def multi30k_available() -> bool:
    from shared.data import DataError, fetch

    try:
        fetch("multi30k/val.de", download=False)
        return True
    except DataError:
        return False


@pytest.mark.skipif(not multi30k_available(), reason="Multi30k not available (set DNN_DATA_DIR)")
def test_multi30k_loads_and_tokenizes_with_aligned_lines():
    from transformer.train import load_multi30k

    de, en = load_multi30k("val")
    assert len(de) == len(en) == 1014
    assert np.mean([len(s.split()) for s in en]) > 5
