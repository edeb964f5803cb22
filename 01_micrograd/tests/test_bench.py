"""The benchmark's loader for Karpathy's micrograd (never imported by name), and a tiny run."""

from __future__ import annotations

import importlib.metadata
import json
import sys
import zipfile
from pathlib import Path

import micrograd.engine
import pytest
from micrograd.__main__ import main
from micrograd.bench import ReferenceNotFoundError, copy_weights, load_reference
from micrograd.nn import MLP

FAKE_ENGINE = "class Value:\n    def __init__(self, data):\n        self.data = data\n"
FAKE_NN = (
    "from micrograd.engine import Value\n"
    "class MLP:\n"
    "    def __init__(self, nin, nouts):\n"
    "        self.params = [Value(0.0) for _ in range(nin * nouts[0] + nouts[0])]\n"
    "    def parameters(self):\n"
    "        return self.params\n"
)


def write_fake_reference(folder):
    (folder / "micrograd").mkdir()
    (folder / "micrograd" / "engine.py").write_text(FAKE_ENGINE)
    (folder / "micrograd" / "nn.py").write_text(FAKE_NN)
    return folder


def test_reference_folder_loads_under_its_own_name_and_ours_is_untouched(tmp_path):
    engine, nn, origin = load_reference(str(write_fake_reference(tmp_path)))
    assert nn.Value is engine.Value and engine.Value is not micrograd.engine.Value
    assert sys.modules["micrograd.engine"] is micrograd.engine
    assert origin == str(tmp_path)


def test_reference_wheel_loads(tmp_path):
    wheel = tmp_path / "micrograd-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("micrograd/engine.py", FAKE_ENGINE)
        archive.writestr("micrograd/nn.py", FAKE_NN)
    _, nn, _ = load_reference(str(wheel))
    model = nn.MLP(2, [3])
    copy_weights(MLP(2, [3], rng=0), model)
    assert [p.data for p in model.parameters()] == [p.data for p in MLP(2, [3], rng=0).parameters()]


def test_missing_or_malformed_reference_is_a_clear_error(tmp_path):
    with pytest.raises(ReferenceNotFoundError, match="no such file"):
        load_reference(str(tmp_path / "absent.whl"))
    (tmp_path / "not_a_wheel.whl").write_text("hello")
    with pytest.raises(ReferenceNotFoundError, match="not a wheel"):
        load_reference(str(tmp_path / "not_a_wheel.whl"))
    with pytest.raises(ReferenceNotFoundError, match=r"has no micrograd/engine\.py"):
        load_reference(str(tmp_path))


@pytest.mark.parametrize(
    ("engine", "message"),
    [(b"def (\n", "could not load Karpathy's micrograd"), (b"x = '\xff\xfe'\n", "not UTF-8 text")],
)
def test_a_reference_that_does_not_compile_or_decode_is_one_error_line(tmp_path, capsys, engine, message):
    wheel = tmp_path / "micrograd-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("micrograd/engine.py", engine)
        archive.writestr("micrograd/nn.py", FAKE_NN)
    with pytest.raises(ReferenceNotFoundError, match=message):
        load_reference(str(wheel))
    argv = ["bench", "--reference", str(wheel), "--steps", "1", "--graph-points", "4", "--repeats", "1"]
    assert main([*argv, "--skip-torch", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err


def test_bench_runs_without_the_reference_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MICROGRAD_REFERENCE", raising=False)
    monkeypatch.setattr("importlib.metadata.distribution", lambda name: (_ for _ in ()).throw(
        importlib.metadata.PackageNotFoundError(name)))  # fmt: skip
    argv = ["bench", "--steps", "1", "--graph-points", "4", "--repeats", "1", "--skip-torch", "--out", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "timing ours alone" in out and "ms/step" in out and "threads: 1" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["backward_fast_ms"] > 0 and results["readable_over_fast_backward"] > 0


def test_bench_with_a_reference_folder_writes_the_ratios(tmp_path, capsys):
    reference = tmp_path / "karpathy"
    reference.mkdir()
    (reference / "micrograd").mkdir()
    # our own engine stands in for his: the bench only needs Value, MLP(nin, nouts) and backward()
    engine = Path(micrograd.engine.__file__).read_text()
    (reference / "micrograd" / "engine.py").write_text(engine)
    (reference / "micrograd" / "nn.py").write_text(
        Path(micrograd.engine.__file__).with_name("nn.py").read_text().replace("from .engine", "from micrograd.engine")
    )
    argv = ["bench", "--reference", str(reference), "--steps", "2", "--graph-points", "4", "--repeats", "1",
            "--skip-torch", "--out", str(tmp_path / "out")]  # fmt: skip
    assert main(argv) == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["speedup_per_training_step"] > 0 and results["largest_relative_loss_difference"] < 1e-12
    assert results["karpathy_backward_over_backward_fast"] > 0
