"""What an MLP checkpoint holds, and how one becomes a model again; the file format is `shared.checkpoint`.

A checkpoint (written atomically by `shared.checkpoint.save`, no pickle) holds one array per
parameter, named as `model.named_parameters()` names it (`0.W`, `0.b`, `2.W`, ...), plus a JSON
`meta`: the format name, the run's `TrainConfig` and the data preprocessing, so
`python -m mlp eval CHECKPOINT` can rebuild the model without being told.

Loading treats the file as hostile, in this order, so nothing large is allocated on a file's
word: `shared.checkpoint.load` checks the archive (no pickle, every header's shape against the
bytes really held, a total under `max_bytes`); then the stored config is checked field by field
(`TrainConfig.from_dict`); then the number of parameters the config describes must equal the
numbers the file holds, and the model's memory must fit the machine; only then is the model
built, and the arrays copied in after their names, shapes and values are checked.

What this module does not do: save optimizer state (a resumed run would restart momentum).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from shared.checkpoint import CheckpointError, load, save
from shared.checks import available_memory, check_memory

from .data import PIXEL_STATS
from .layers import Module, Sequential
from .train import TrainConfig, build_model, memory_needed, parameter_count

__all__ = ["FORMAT", "MAX_BYTES", "CheckpointError", "load_checkpoint", "load_parameters", "save_checkpoint"]

FORMAT = "mlp-checkpoint-1"
# The largest checkpoint this folder accepts: 268M float32 parameters, far above any MLP here
# (784-256-256-10 is 1 MB); a smaller limit applies when the machine has less memory to give.
MAX_BYTES = 1 << 30


def save_checkpoint(path: str | os.PathLike, model: Module, config: TrainConfig) -> Path:
    """Write the model's parameters, its config and the preprocessing to `path` (.npz), atomically."""
    arrays = {name: parameter.data for name, parameter in model.named_parameters()}
    meta = {"format": FORMAT, "config": config.to_dict(), "pixel_stats": list(PIXEL_STATS[config.dataset])}
    return save(path, arrays, meta)


def load_checkpoint(path: str | os.PathLike) -> tuple[Sequential, TrainConfig]:
    """The model a checkpoint describes, with its parameters loaded, and its config."""
    path = Path(path)
    limit = min(MAX_BYTES, available_memory() // 4)
    arrays, meta = load(path, max_bytes=limit)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: expected a '{FORMAT}' checkpoint, got format {meta.get('format')!r}")
    try:
        config = TrainConfig.from_dict(meta.get("config"), source=f"{path} (meta 'config')")
    except ValueError as error:
        raise CheckpointError(f"{path}: its configuration is invalid: {error}") from None
    sizes = "-".join(str(size) for size in [784, *config.hidden, 10])
    expected, stored = parameter_count(config), sum(array.size for array in arrays.values())
    if expected != stored:
        raise CheckpointError(
            f"{path}: its configuration describes a {sizes} MLP with {expected:,} parameters, "
            f"but the file holds {stored:,} numbers"
        )
    check_memory(memory_needed(config, examples=10000), f"the {sizes} MLP in {path}")
    model = build_model(config)
    load_parameters(model, arrays, source=str(path))
    return model, config


def load_parameters(model: Module, arrays: dict[str, np.ndarray], source: str = "checkpoint") -> None:
    """Copy `arrays` into the model's parameters, checking names, shapes, dtypes and values first.

    Nothing is modified unless every parameter matches, so a failed load leaves the model intact.
    """
    expected = dict(model.named_parameters())
    missing = sorted(set(expected) - set(arrays))
    unexpected = sorted(set(arrays) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{source} does not match the model: missing parameters {missing}, unexpected {unexpected}"
        )
    for name, parameter in expected.items():
        if arrays[name].shape != parameter.shape:
            raise CheckpointError(
                f"{source} does not match the model: parameter {name} has shape {arrays[name].shape} "
                f"in the checkpoint but {parameter.shape} in the model"
            )
        if not np.issubdtype(arrays[name].dtype, np.floating):
            raise CheckpointError(f"{source}: parameter {name} has non-float dtype {arrays[name].dtype}")
    cast = {}
    for name, parameter in expected.items():
        with np.errstate(over="ignore"):
            cast[name] = arrays[name].astype(parameter.data.dtype, copy=False)  # 1e300 becomes inf in float32
        if not np.isfinite(cast[name]).all():
            raise CheckpointError(
                f"{source}: parameter {name} holds NaN or infinite values (in {parameter.data.dtype})"
            )
    for name, parameter in expected.items():
        parameter.data[...] = cast[name]  # in place: optimizers may hold references
