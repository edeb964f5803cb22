import io
import json

import numpy as np
import pytest

from shared.plotting import image_grid, plot_curves
from shared.progress import Progress, format_duration
from shared.results import output_dir, write_results
from shared.seeding import make_rng


def test_make_rng_is_reproducible_and_validates():
    assert make_rng(7).random() == make_rng(7).random()
    generator = np.random.default_rng(1)
    assert make_rng(generator) is generator
    with pytest.raises(ValueError, match="non-negative"):
        make_rng(-1)
    with pytest.raises(TypeError, match="seed"):
        make_rng("42")


def test_progress_line_reports_step_metrics_rate_and_eta():
    stream = io.StringIO()
    progress = Progress(total=10, description="train", stream=stream, log_every=0.0)
    for step in range(1, 11):
        progress.update(step, loss=1.0 / step)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("train | 1/10 | loss 1 | ")
    assert "ETA" in lines[0]
    assert lines[-1].startswith("train | 10/10 | loss 0.1")
    assert format_duration(3725) == "1h02m" and format_duration(185) == "3m05s"


def test_progress_in_a_log_prints_at_most_every_log_interval():
    stream = io.StringIO()
    progress = Progress(total=1000, stream=stream, log_every=3600)
    for step in range(1, 1001):
        progress.update(step)
    progress.close()
    assert len(stream.getvalue().splitlines()) == 2  # the first step and the last


def test_plots_are_written_as_png(tmp_path):
    path = plot_curves(tmp_path / "sub" / "loss.png", {"train": ([0, 1, 2], [3.0, 2.0, 1.0])})
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    grid = image_grid(tmp_path / "grid.png", np.zeros((3, 8, 8)), titles=["a", "b", "c"])
    assert grid.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="N, H, W"):
        image_grid(tmp_path / "bad.png", np.zeros((8, 8)))


def test_write_results_adds_command_seconds_seed(tmp_path):
    out = output_dir(tmp_path / "run", "ignored")
    path = write_results(out, {"mnist": {"test_accuracy": 0.981}}, seconds=12.3456, seed=0, command="python -m x")
    payload = json.loads(path.read_text())
    assert payload == {"mnist": {"test_accuracy": 0.981}, "command": "python -m x", "seconds": 12.346, "seed": 0}
    with pytest.raises(ValueError, match="non-finite"):
        write_results(out, {"loss": float("nan")}, seconds=1, seed=0)
    with pytest.raises(ValueError, match="seed"):
        write_results(out, {"seed": 1}, seconds=1, seed=0)


def test_output_dir_defaults_to_runs_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert output_dir(None, "mlp") == tmp_path.joinpath("runs", "mlp").relative_to(tmp_path)
    assert (tmp_path / "runs" / "mlp").is_dir()
