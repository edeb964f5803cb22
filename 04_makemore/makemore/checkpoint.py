"""What a makemore checkpoint holds, and how it becomes a model again.

The file format is `shared.checkpoint`'s: an `.npz` written atomically, read without pickle,
every array's size checked from its header before anything is allocated, and a JSON `meta`.
This module adds only makemore's part:

- a neural model: arrays `param.<name>` and `buffer.<name>`, meta `{"format":
  "makemore-checkpoint-v1", "config": {model, block_size, n_embd, n_hidden, vocab_size}, ...}`;
- a bigram table: the array `P` (27, 27), meta `{"format": "makemore-bigram-v1", "model": ...}`.

The stored config is checked BEFORE the model is built from it: the vocabulary must be the
27 characters the data uses, and every size must be an integer within `LIMITS`, so a tiny
crafted file cannot make us allocate gigabytes (a `vocab_size` of 40,000 would need a 6.4 GB
one-hot table). Then every array must exist, fit its parameter's shape and be finite.
"""

from __future__ import annotations

import os
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from shared import checkpoint
from shared.checks import integer

from .data import VOCAB_SIZE
from .models import MODELS, ModelConfig, build_model

__all__ = ["BIGRAM_FORMAT", "FORMAT", "LIMITS", "check_config", "load", "load_model", "save_bigram", "save_model"]

FORMAT = "makemore-checkpoint-v1"
BIGRAM_FORMAT = "makemore-bigram-v1"
MAX_BYTES = 64 * 2**20  # the largest model here (wavenet) is 0.3 MB
# Upper bounds on a stored config (the lectures use at most 16, 64 and 200): with them the
# largest model that can be built has a few million parameters, tens of MB.
LIMITS = {"block_size": 32, "n_embd": 256, "n_hidden": 1024}


def save_model(path: str | os.PathLike, model, extra: dict | None = None) -> Path:
    """Parameters, BatchNorm buffers and the config (plus `extra`, e.g. metrics) as a checkpoint."""
    arrays = {f"param.{k}": v for k, v in model.parameters().items()}
    arrays.update({f"buffer.{k}": v for k, v in model.buffers().items()})
    return checkpoint.save(path, arrays, {"format": FORMAT, "config": asdict(model.config), **(extra or {})})


def save_bigram(path: str | os.PathLike, P: np.ndarray, model: str) -> Path:
    """A bigram model's 27x27 table of next-character probabilities."""
    return checkpoint.save(path, {"P": P}, {"format": BIGRAM_FORMAT, "model": model})


def check_config(stored, source: str) -> ModelConfig:
    """A ModelConfig from a checkpoint's `config`, every field checked before any array is built."""
    if not isinstance(stored, dict):
        raise checkpoint.CheckpointError(f"{source}: 'config' must be a JSON object, not {type(stored).__name__}")
    names = {f.name for f in fields(ModelConfig)}
    if set(stored) != names:
        raise checkpoint.CheckpointError(f"{source}: 'config' must have exactly the fields {sorted(names)}")
    if stored["model"] not in MODELS:
        raise checkpoint.CheckpointError(f"{source}: unknown model {stored['model']!r}; one of {', '.join(MODELS)}")
    if stored["vocab_size"] != VOCAB_SIZE or isinstance(stored["vocab_size"], bool):
        raise checkpoint.CheckpointError(
            f"{source}: vocab_size must be {VOCAB_SIZE} (the characters . and a-z), got {stored['vocab_size']!r}"
        )
    for field, maximum in LIMITS.items():
        integer(field, stored[field], source, minimum=1, maximum=maximum)
    return ModelConfig(**stored)


def _meta(path, meta: dict) -> str:
    fmt = meta.get("format")
    if fmt not in (FORMAT, BIGRAM_FORMAT):
        raise checkpoint.CheckpointError(f"{path} has format {fmt!r}, not a makemore checkpoint ({FORMAT!r})")
    return fmt


def _finite_floats(path, name: str, array: np.ndarray) -> None:
    if not np.issubdtype(array.dtype, np.floating):
        raise checkpoint.CheckpointError(f"{path}: {name} has dtype {array.dtype}, expected floating point")
    if not np.isfinite(array).all():
        raise checkpoint.CheckpointError(f"{path}: {name} holds NaN or infinity")


def _bigram_table(path, arrays: dict) -> np.ndarray:
    P = arrays.get("P")
    if P is None or P.shape != (VOCAB_SIZE, VOCAB_SIZE):
        raise checkpoint.CheckpointError(f"{path}: a bigram checkpoint holds P of shape (27, 27)")
    _finite_floats(path, "P", P)
    if (P < 0).any() or not np.allclose(P.sum(axis=1), 1.0, atol=1e-6):
        raise checkpoint.CheckpointError(f"{path}: the bigram table must be 27x27 with rows summing to 1")
    return P


def _model(path, arrays: dict, meta: dict):
    config = check_config(meta.get("config"), str(path))
    model = build_model(config, rng=0, dtype=np.float32)  # small: the sizes were checked above
    expected = {f"param.{k}": v for k, v in model.parameters().items()}
    expected.update({f"buffer.{k}": v for k, v in model.buffers().items()})
    missing, unexpected = sorted(set(expected) - set(arrays)), sorted(set(arrays) - set(expected))
    if missing or unexpected:
        raise checkpoint.CheckpointError(
            f"{path} does not match a {config.model} model: missing {missing}, unexpected {unexpected}"
        )
    for key, target in expected.items():
        if arrays[key].shape != target.shape:
            raise checkpoint.CheckpointError(
                f"{path}: {key} has shape {arrays[key].shape}, the model expects {target.shape}"
            )
        _finite_floats(path, key, arrays[key])
        target[...] = arrays[key]
    return model


def load(path: str | os.PathLike):
    """A checkpoint as ("bigram", P) or ("model", model); CheckpointError (a ValueError) saying why not."""
    arrays, meta = checkpoint.load(path, max_bytes=MAX_BYTES)
    if _meta(path, meta) == BIGRAM_FORMAT:
        return "bigram", _bigram_table(path, arrays)
    return "model", _model(path, arrays, meta)


def load_model(path: str | os.PathLike):
    """The neural model of a checkpoint written by `save_model`."""
    kind, model = load(path)
    if kind != "model":
        raise checkpoint.CheckpointError(f"{path} holds a bigram table, not a neural model")
    return model
