"""Data parallelism over MPI (ddp.py): N ranks of micro-batch B take the step of one process of batch N*B.

The tests start `mpiexec -n 2` from the same environment as this Python (pip install "08_gpt2[mpi]":
mpi4py and the mpich wheel) on tests/ddp_worker.py, and skip where mpi4py or mpiexec is missing.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ddp_worker import SMALL, TEXT
from gpt2.train import TrainConfig, load_checkpoint, train

WORKER = Path(__file__).with_name("ddp_worker.py")
pytestmark = pytest.mark.mpi  # each starts mpiexec (~5 s on a loaded 2-core machine); -m "not mpi" skips them


def _mpiexec() -> str | None:
    here = Path(sys.executable).parent / "mpiexec"
    return str(here) if here.exists() else shutil.which("mpiexec")


def _needs_mpi():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.skip("mpi4py is not installed (pip install -e '08_gpt2[mpi]')")
    if _mpiexec() is None:
        pytest.skip("no mpiexec next to this Python or on PATH (pip install mpich)")


def run_ranks(n: int, *args, check: bool = True) -> subprocess.CompletedProcess:
    _needs_mpi()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONPATH=str(WORKER.parent))
    command = [_mpiexec(), "-n", str(n), sys.executable, str(WORKER), *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def params_of(path: Path) -> dict[str, np.ndarray]:
    _, arrays = load_checkpoint(path)
    return {k: v for k, v in arrays.items() if k.startswith("param/")}


def single(out: Path, dtype, batch: int, steps: int = 10) -> dict[str, np.ndarray]:
    cfg = TrainConfig(batch_size=batch, max_iters=steps, eval_interval=steps, **SMALL)
    train(cfg, out, text=TEXT, log=lambda *a: None, dtype=dtype)
    return params_of(out / "ckpt.npz")


def assert_close(ours: dict, theirs: dict, rtol: float) -> None:
    """Largest difference within rtol of the largest weight, over the whole model.

    Relative to the model, not to each tensor: the key bias's gradient is zero in exact arithmetic
    (softmax ignores a shift shared by all keys), so AdamW divides rounding noise by rounding noise
    there, and in float32 those 16 numbers differ by ~1e-5 between any two summation orders.
    """
    assert ours.keys() == theirs.keys()
    scale = max(np.abs(theirs[name]).max() for name in theirs)
    worst = max(np.abs(ours[name] - theirs[name]).max() for name in ours)
    assert worst <= rtol * scale, (worst, scale)


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-6), ("float32", 1e-4)])
def test_two_ranks_of_batch_b_take_the_steps_of_one_process_of_batch_2b(tmp_path, dtype, rtol):
    run_ranks(2, tmp_path / "ddp", dtype, 3, 0, 10)
    reference = single(tmp_path / "one", np.dtype(dtype), 6)
    assert_close(params_of(tmp_path / "ddp/rank0/ckpt.npz"), reference, rtol)
    assert params_of(tmp_path / "ddp/rank0/ckpt.npz")["param/transformer.wte.weight"].dtype == np.dtype(dtype)


def test_only_rank_zero_writes_files(tmp_path):
    run_ranks(2, tmp_path, "float32", 2, 0, 2)
    assert (tmp_path / "rank0/ckpt.npz").is_file() and (tmp_path / "rank0/results.json").is_file()
    assert not (tmp_path / "rank1").exists()
    results = json.loads((tmp_path / "rank0/results.json").read_text())
    assert results["ranks"] == 2 and results["zero"] == 0 and results["allreduce_seconds"] >= 0
    tokens_per_step = 2 * 2 * SMALL["block_size"]  # both ranks' micro-batches of 2
    assert results["tokens_per_second"] == pytest.approx(tokens_per_step / results["step_seconds_median"])


def test_zero_1_takes_the_same_steps_as_plain_ddp(tmp_path):
    run_ranks(2, tmp_path / "ddp", "float64", 3, 0, 10)
    run_ranks(2, tmp_path / "zero", "float64", 3, 1, 10)
    plain, zero = (
        load_checkpoint(tmp_path / "ddp/rank0/ckpt.npz")[1],
        load_checkpoint(tmp_path / "zero/rank0/ckpt.npz")[1],
    )
    assert plain.keys() == zero.keys()  # the gathered moments are saved under the same names
    assert_close(zero, plain, 1e-12)


def test_zero_1_keeps_about_half_the_optimizer_state_on_each_of_two_ranks():
    done = run_ranks(2, "state")
    full, *per_rank = map(int, done.stdout.split()[1:])
    assert len(per_rank) == 2 and sum(per_rank) == full
    assert all(abs(size - full / 2) <= 16 for size in per_rank)


def test_resume_with_two_ranks_continues_the_same_run(tmp_path):
    run_ranks(2, tmp_path / "straight", "float64", 3, 1, 8)
    run_ranks(2, tmp_path / "first", "float64", 3, 1, 4)
    run_ranks(2, tmp_path / "first", "float64", 3, 1, 8, tmp_path / "first/rank0/ckpt.npz")
    assert_close(params_of(tmp_path / "first/rank0/ckpt.npz"), params_of(tmp_path / "straight/rank0/ckpt.npz"), 1e-12)


def test_resume_with_another_number_of_ranks_is_a_clear_error(tmp_path):
    run_ranks(2, tmp_path, "float32", 2, 0, 2)
    cfg = TrainConfig(batch_size=2, max_iters=4, eval_interval=4, **SMALL)
    with pytest.raises(ValueError, match=r"trained with 2 rank\(s\), this run has 1; resume with mpiexec -n 2"):
        train(cfg, tmp_path / "again", resume=tmp_path / "rank0/ckpt.npz", text=TEXT, log=lambda *a: None)


def test_training_without_ddp_imports_no_mpi(tmp_path):
    code = (
        "import sys\nfrom gpt2.train import TrainConfig, train\n"
        f"from ddp_worker import SMALL, TEXT\ntrain(TrainConfig(max_iters=1, **SMALL), {str(tmp_path)!r}, text=TEXT, "
        "log=lambda *a: None)\nprint(sorted(m for m in sys.modules if m.split('.')[0] in ('mpi4py', 'mpich')))"
    )
    env = dict(os.environ, PYTHONPATH=str(WORKER.parent), OPENBLAS_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_a_failure_of_rank_zero_alone_ends_every_rank_with_its_error_line(tmp_path):
    done = run_ranks(2, "fail", tmp_path, "float32", 2, 0, 4, check=False)
    assert done.returncode != 0
    assert "error: rank 0: rank 0's evaluation failed" in done.stderr


def test_zero_without_ranks_is_refused(tmp_path):
    with pytest.raises(ValueError, match="--zero 1 shards the optimizer"):
        train(TrainConfig(max_iters=1, **SMALL), tmp_path, text=TEXT, log=lambda *a: None, zero=1)


def cli(*args, ranks: int | None = None) -> subprocess.CompletedProcess:
    """python -m gpt2 train ... (under mpiexec -n ranks when given), on the real tiny shakespeare."""
    from conftest import data_or_skip

    data_or_skip("tinyshakespeare.txt")
    command = [sys.executable, "-m", "gpt2", "train", *map(str, args)]
    if ranks is not None:
        _needs_mpi()
        command = [_mpiexec(), "-n", str(ranks), *command]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


FEW = ("--max-iters", 2, "--eval-interval", 2, "--eval-iters", 1, "--final-eval-iters", 1, "--sample-tokens", 0)


def test_command_line_prints_the_effective_batch_and_refuses_another_rank_count_in_one_line(tmp_path):
    done = cli("--ddp", "--batch-size", 3, "--grad-accum", 2, *FEW, "--out", tmp_path / "two", ranks=2)
    assert done.returncode == 0, done.stderr
    assert "2 ranks x micro-batch 3 x accumulation 2 = effective batch 12" in done.stdout + done.stderr
    assert (done.stdout + done.stderr).count("step 2: train loss") == 1  # rank 0 alone evaluates and prints
    again = cli(*FEW, "--max-iters", 4, "--resume", tmp_path / "two/ckpt.npz", "--out", tmp_path / "one")
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        "error: --resume: the checkpoint was trained with 2 rank(s), this run has 1; resume with mpiexec -n 2 "
        "(the batch and the data stream depend on the rank count)"
    ]


def test_ranks_option_starts_mpiexec_with_the_same_options(tmp_path):
    done = cli("--ranks", 2, "--zero", 1, "--batch-size", 3, "--lr", 0.002, *FEW, "--out", tmp_path, ranks=None)
    assert done.returncode == 0, done.stderr
    assert "effective batch 6; ZeRO-1 optimizer state" in done.stdout + done.stderr
    assert json.loads((tmp_path / "results.json").read_text())["command"].endswith(
        "train --ddp --seed 1337 --threads 1 --zero 1 --batch-size 3 --max-iters 2 --lr 0.002 --eval-interval 2 "
        f"--eval-iters 1 --final-eval-iters 1 --sample-tokens 0 --out {tmp_path}"
    )


def test_command_line_refuses_zero_without_ranks(tmp_path):
    done = cli("--zero", 1, *FEW, "--out", tmp_path)
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1].startswith("error: --zero 1 shards")
