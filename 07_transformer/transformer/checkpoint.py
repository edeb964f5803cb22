"""The Transformer's part of a checkpoint: which arrays, which description, and the checks.

The file format (an atomic `.npz` without pickle, a JSON `meta` entry, sizes checked before
anything is allocated) is `shared.checkpoint`'s. This module decides what goes in it:

    arrays   `model.<param name>`, `adam.*` (optional), `src_vocab`/`tgt_vocab` (unicode
             arrays, optional), `history.*` (loss curves, so a resumed run continues its plots)
    meta     {"kind": "transformer", "config": TransformerConfig, "step": updates done,
              "run": what was trained and how (task, data, training settings)}

Loading checks the stored config's sizes and the parameter count it implies against the
arrays the file really holds *before* the model is built, so a small file that claims
100,000 layers is refused instead of allocating gigabytes. What is not here: the training
loop's decision to resume (see `train.py`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shared.checkpoint import CheckpointError, load, save
from shared.checks import check_memory, integer, probability

from .data import Vocab
from .model import Transformer, TransformerConfig, count_parameters_formula

__all__ = ["CheckpointError", "history", "load_model", "model_state", "read_checkpoint", "save_checkpoint", "vocabs"]

KIND = "transformer"
# Limits on a stored config, far above anything trained here (base: N=6, d=512, d_ff=2048).
LIMITS = dict(n_layers=64, d_model=8192, n_heads=256, d_ff=65536, max_len=4096, src_vocab_size=10**6)
LIMITS["tgt_vocab_size"] = LIMITS["src_vocab_size"]
MAX_STEP = 10**9


def save_checkpoint(
    path, model: Transformer, step: int, optimizer=None, src_vocab=None, tgt_vocab=None, history=None, run=None
) -> Path:
    """Write the model (and optimizer state, vocabularies, loss history) to `path` atomically."""
    for name, value in model.named_parameters().items():
        if not np.isfinite(value).all():  # never replace a good checkpoint with a diverged model
            raise ValueError(f"parameter {name} holds NaN or infinity at step {step}; not saving {path}")
    arrays = {f"model.{name}": value for name, value in model.state_dict().items()}
    if optimizer is not None:
        arrays.update(optimizer.state_dict())
    if src_vocab is not None:
        arrays["src_vocab"] = src_vocab.to_array()
    if tgt_vocab is not None:
        arrays["tgt_vocab"] = tgt_vocab.to_array()
    for name, values in (history or {}).items():
        arrays[f"history.{name}"] = np.asarray(values, dtype=np.float64)
    meta = {"kind": KIND, "config": model.cfg.to_dict(), "step": int(step), "run": dict(run or {})}
    return save(path, arrays, meta)


def read_checkpoint(path) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays, meta) of a checkpoint written by `save_checkpoint`, its description checked."""
    arrays, meta = load(path)
    if meta.get("kind") != KIND or not isinstance(meta.get("config"), dict):
        raise CheckpointError(
            f"{path} is not a transformer checkpoint of this package (its meta says {meta.get('kind')!r})"
        )
    meta["step"] = integer("step", meta.get("step"), str(path), 0, MAX_STEP)
    if not isinstance(meta.get("run", {}), dict):
        raise CheckpointError(f"{path}: 'run' in its meta must be an object")
    return arrays, meta


def checked_config(values: dict, source: str) -> TransformerConfig:
    """A TransformerConfig from stored values, every size checked against `LIMITS` first."""
    for name, limit in LIMITS.items():
        if name in values:
            integer(name, values[name], source, 1, limit)
    if "dropout" in values:
        probability("dropout", values["dropout"], source)
    try:
        return TransformerConfig.from_dict(values)
    except TypeError as error:  # a field missing
        raise CheckpointError(f"{source} holds an incomplete config ({error})") from None


def model_state(arrays) -> dict[str, np.ndarray]:
    return {key[len("model.") :]: value for key, value in arrays.items() if key.startswith("model.")}


def load_model(path) -> tuple[Transformer, dict[str, np.ndarray], dict]:
    """(model, arrays, meta) from a checkpoint; the model is built from the stored config.

    Before building: the config's sizes are within `LIMITS`, and the parameter count they
    imply equals the number of values the file holds (a config that claims more than the file
    holds is refused, so a tiny file cannot make us allocate a huge model).
    """
    arrays, meta = read_checkpoint(path)
    source = f"{path}"
    cfg = checked_config(meta["config"], source)
    state = model_state(arrays)
    expected = count_parameters_formula(cfg)
    held = sum(int(value.size) for value in state.values())
    if expected != held:
        raise CheckpointError(
            f"{path}: its config describes {expected:,} parameters but the file holds {held:,} model values"
        )
    itemsize = np.dtype(cfg.dtype).itemsize
    check_memory(2 * expected * itemsize + cfg.max_len * cfg.d_model * 8, f"the model in {path}")
    for name, value in state.items():
        if value.dtype.kind != "f" or not np.isfinite(value).all():
            raise CheckpointError(f"{path}: parameter {name} is not a finite floating-point array")
    model = Transformer(cfg)
    try:
        model.load_state_dict(state)
    except ValueError as error:
        raise CheckpointError(f"{path}: {error}") from None
    return model, arrays, meta


def vocabs(arrays, cfg: TransformerConfig | None = None) -> tuple[Vocab | None, Vocab | None]:
    """The stored vocabularies (None where absent); with `cfg`, their sizes must match the model's."""
    found = []
    for key, size in (("src_vocab", cfg and cfg.src_vocab_size), ("tgt_vocab", cfg and cfg.tgt_vocab_size)):
        if key not in arrays:
            found.append(None)
            continue
        words = arrays[key]
        if words.ndim != 1 or words.dtype.kind != "U":
            raise CheckpointError(f"the checkpoint's {key} must be a list of words")
        try:
            vocab = Vocab([str(w) for w in words])
        except ValueError as error:
            raise CheckpointError(f"the checkpoint's {key} is invalid: {error}") from None
        if size is not None and len(vocab) != size:
            raise CheckpointError(f"the checkpoint's {key} has {len(vocab)} words but its model expects {size}")
        found.append(vocab)
    return found[0], found[1]


def history(arrays) -> dict[str, list[float]]:
    return {key[len("history.") :]: value.tolist() for key, value in arrays.items() if key.startswith("history.")}
