"""Save and load a model's parameters as `.npz` (no pickle), with a JSON description.

A checkpoint holds one array per parameter, named as `model.named_parameters()` names it
(`0.W`, `0.b`, `2.W`, ...), plus `meta`: a JSON string (a 0-d unicode array, which
`np.load(..., allow_pickle=False)` reads) describing the architecture and the data
preprocessing, so `python -m mlp --eval` can rebuild the model without being told.

What this module does not do: save optimizer state (a resumed run would restart momentum).
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from .layers import Module

__all__ = ["CheckpointError", "load_parameters", "read_checkpoint", "save_checkpoint"]

META_KEY = "meta"


class CheckpointError(ValueError):
    """A checkpoint is missing, malformed, or does not fit the model."""


def save_checkpoint(path: str | os.PathLike, model: Module, meta: dict) -> Path:
    """Write the model's parameters and `meta` (JSON-serialisable) to `path` (.npz)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {name: parameter.data for name, parameter in model.named_parameters()}
    if META_KEY in arrays:
        raise ValueError(f"a parameter is named {META_KEY!r}, which is reserved")
    with open(path, "wb") as f:  # an open file, so numpy does not append a second .npz
        np.savez(f, **arrays, **{META_KEY: np.array(json.dumps(meta))})
    return path


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """(parameter arrays by name, meta dict) from a checkpoint, or a CheckpointError saying why not."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise CheckpointError(f"{path} is not a readable .npz checkpoint ({error})") from None
    if META_KEY not in arrays:
        raise CheckpointError(f"{path} has no '{META_KEY}' entry: not a checkpoint written by mlp")
    try:
        meta = json.loads(str(arrays.pop(META_KEY)))
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path}: its '{META_KEY}' entry is not valid JSON ({error})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: its '{META_KEY}' entry must be a JSON object")
    return arrays, meta


def load_parameters(model: Module, arrays: dict[str, np.ndarray], source: str = "checkpoint") -> None:
    """Copy `arrays` into the model's parameters, checking names, shapes and dtypes first.

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
    for name, parameter in expected.items():
        parameter.data[...] = arrays[name]  # in place, cast to the model's dtype
