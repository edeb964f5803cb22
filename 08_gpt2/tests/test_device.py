"""The array library: NumPy on the CPU without ever importing CuPy; CuPy against NumPy where a GPU exists."""

import subprocess
import sys

import numpy as np
import pytest
from gpt2.device import array_module, gpu_available, to_numpy, xp_of
from gpt2.model import GPT, GPTConfig

SMALL = GPTConfig(vocab_size=29, n_positions=16, n_embd=32, n_layer=2, n_head=4)


def test_the_cpu_path_never_imports_cupy():
    code = (
        "import sys, numpy as np; from gpt2.model import GPT, GPTConfig; from gpt2 import train, sample, bench; "
        "m = GPT(GPTConfig(vocab_size=5, n_positions=4, n_embd=4, n_layer=1, n_head=1)); "
        "m(np.zeros((1, 3), int), np.zeros((1, 3), int)); m.backward(); assert 'cupy' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cpu_is_numpy_and_an_unknown_device_is_an_error():
    assert array_module("cpu") is np and xp_of(np.zeros(2)) is np
    assert to_numpy(np.arange(3)).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="device"):
        array_module("tpu")
    if not gpu_available():
        with pytest.raises(ValueError, match="CuPy"):
            GPT(SMALL, device="cuda")


gpu = pytest.mark.skipif(not gpu_available(), reason="needs CuPy and an NVIDIA GPU")


@pytest.mark.gpu
@gpu
def test_cupy_logits_and_every_gradient_equal_numpy():
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 29, (3, 16)), rng.integers(0, 29, (3, 16))
    models = {device: GPT(SMALL, seed=1, device=device) for device in ("cpu", "cuda")}
    results = {}
    for device, model in models.items():
        logits, loss = model(x, y)
        model.backward()
        results[device] = (to_numpy(logits), loss, {n: to_numpy(p.grad) for n, p in model.params.items()})
    np.testing.assert_allclose(results["cuda"][0], results["cpu"][0], rtol=1e-4, atol=1e-5)
    assert results["cuda"][1] == pytest.approx(results["cpu"][1], rel=1e-5)
    for name, grad in results["cpu"][2].items():
        scale = np.abs(grad).max() + 1e-12
        assert np.abs(results["cuda"][2][name] - grad).max() / scale < 1e-4, name


@pytest.mark.gpu
@gpu
def test_twenty_training_steps_on_cupy_follow_numpy():
    from gpt2.optim import AdamW, clip_grad_norm

    rng = np.random.default_rng(0)
    batches = [(rng.integers(0, 29, (4, 16)), rng.integers(0, 29, (4, 16))) for _ in range(20)]
    losses = {}
    for device in ("cpu", "cuda"):
        model = GPT(SMALL, seed=1, device=device)
        optimizer = AdamW(model.params, lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
        losses[device] = []
        for x, y in batches:
            losses[device].append(model(x, y)[1])
            model.backward()
            clip_grad_norm(model.parameters(), 1.0)
            optimizer.step()
            model.zero_grad()
    np.testing.assert_allclose(losses["cuda"], losses["cpu"], rtol=1e-3)
