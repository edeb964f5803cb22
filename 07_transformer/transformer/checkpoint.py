"""Checkpoints as plain `.npz` files (no pickle): parameters, optimizer state, config, vocabularies.

Keys: `model.<param name>`, `adam.*` (optional), `config_json` (the TransformerConfig as a JSON
string), `src_vocab`/`tgt_vocab` (unicode arrays, optional), `step`, and `history.*` arrays
(loss curves) so a resumed run continues its plots. Loading checks every shape against the
model and raises a clear error for a missing, corrupt or mismatched file.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from .data import Vocab
from .model import Transformer, TransformerConfig


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable or does not fit the model."""


def save_checkpoint(path, model: Transformer, step: int, optimizer=None, src_vocab=None, tgt_vocab=None, history=None):
    arrays = {f"model.{name}": value for name, value in model.state_dict().items()}
    if optimizer is not None:
        arrays.update(optimizer.state_dict())
    arrays["config_json"] = np.array(json.dumps(model.cfg.to_dict()))
    arrays["step"] = np.array(step)
    if src_vocab is not None:
        arrays["src_vocab"] = src_vocab.to_array()
    if tgt_vocab is not None:
        arrays["tgt_vocab"] = tgt_vocab.to_array()
    for name, values in (history or {}).items():
        arrays[f"history.{name}"] = np.asarray(values, dtype=np.float64)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)  # atomic: an interrupted save never leaves a half-written checkpoint
    return path


def read_checkpoint(path) -> dict[str, np.ndarray]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise CheckpointError(f"checkpoint {path} is not a readable .npz file: {error}") from error
    for key in ("config_json", "step"):
        if key not in arrays:
            raise CheckpointError(f"checkpoint {path} lacks '{key}'; was it written by this package?")
    return arrays


def model_state(arrays) -> dict[str, np.ndarray]:
    return {key[len("model.") :]: value for key, value in arrays.items() if key.startswith("model.")}


def load_model(path):
    """(model, arrays) from a checkpoint; the model is built from the stored config."""
    arrays = read_checkpoint(path)
    try:
        cfg = TransformerConfig.from_dict(json.loads(str(arrays["config_json"])))
    except (json.JSONDecodeError, TypeError, ValueError) as error:
        raise CheckpointError(f"checkpoint {path} holds an invalid config: {error}") from error
    model = Transformer(cfg)
    try:
        model.load_state_dict(model_state(arrays))
    except ValueError as error:
        raise CheckpointError(f"checkpoint {path}: {error}") from error
    return model, arrays


def vocabs(arrays) -> tuple[Vocab | None, Vocab | None]:
    src = Vocab([str(w) for w in arrays["src_vocab"]]) if "src_vocab" in arrays else None
    tgt = Vocab([str(w) for w in arrays["tgt_vocab"]]) if "tgt_vocab" in arrays else None
    return src, tgt


def history(arrays) -> dict[str, list[float]]:
    return {key[len("history.") :]: value.tolist() for key, value in arrays.items() if key.startswith("history.")}
