"""Which array library runs the model: NumPy on the CPU, CuPy on an NVIDIA GPU; the code is the same.

CuPy implements NumPy's API on the GPU, and NumPy hands its functions and ufuncs over to CuPy
when given CuPy arrays (NEP 13/18), so the layers, the model, AdamW and the training loop are
written once with `np.` calls. Only code that *creates* arrays without an array argument
(`arange`, `zeros`, `empty`, `triu` of a new mask, random numbers) must name the library: it
asks `xp_of(some_array)`, or takes the module `array_module(device)` returned.

The CPU path never imports CuPy: `xp_of` only looks CuPy up in `sys.modules`, where it is only
if `array_module("cuda")` was called. CuPy is an optional extra: `pip install -e "08_gpt2[gpu]"`.
Not here: multiple GPUs, mixed precision (float32 throughout; TF32 matmuls with CUPY_TF32=1).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import numpy as np

__all__ = ["DEVICES", "array_module", "gpu_available", "to_numpy", "xp_of"]

DEVICES = ("cpu", "cuda")


def gpu_available() -> bool:
    """True when CuPy is installed and sees at least one GPU (imports CuPy only if it is installed)."""
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no driver, no device: CuPy raises its own runtime errors
        return False


def array_module(device: str) -> ModuleType:
    """numpy for 'cpu', cupy for 'cuda' (a clear ValueError when CuPy or a GPU is missing)."""
    if device == "cpu":
        return np
    if device != "cuda":
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if not gpu_available():
        raise ValueError('--device cuda needs CuPy and an NVIDIA GPU (pip install -e "08_gpt2[gpu]")')
    import cupy

    return cupy


def xp_of(array) -> ModuleType:
    """The library an array belongs to: numpy, or cupy for a CuPy array."""
    if isinstance(array, (np.ndarray, np.generic)) or "cupy" not in sys.modules:
        return np
    cupy = sys.modules["cupy"]
    return cupy if isinstance(array, cupy.ndarray) else np


def to_numpy(array) -> np.ndarray:
    """A NumPy copy of a NumPy or CuPy array (CuPy refuses implicit conversion on purpose)."""
    return array.get() if hasattr(array, "get") and not isinstance(array, np.ndarray) else np.asarray(array)
