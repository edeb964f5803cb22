"""The network's checkpoint: its 9,760 parameters and its Config, in one `.npz` without pickle.

    save_checkpoint(path, net, meta)  ->  path         (train writes runs/.../model.npz)
    load_checkpoint(path)             ->  (net, meta)

The file format, the atomic write and the hostile-file checks (no pickle, no header claiming
more bytes than the file holds, a size limit, a JSON nesting limit) are `shared.checkpoint`'s.
This module holds only what is particular to this network: the arrays are the `LAYOUT`
parameters by name, and the description holds the `Config`. Reading checks the stored
config (Config's own checks) before the network is built, then every array's name, shape,
dtype and finiteness before it is copied in. The sizes of the network are fixed, so nothing
in the file can make it allocate more than its 40 KB of parameters.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import numpy as np

from shared import checkpoint
from shared.checkpoint import CheckpointError

from .model import Config, Net

__all__ = ["FORMAT", "MAX_BYTES", "CheckpointError", "load_checkpoint", "save_checkpoint"]

FORMAT = "lecun1989-checkpoint-2"  # -1 was this folder's own .npz reader, before shared.checkpoint
MAX_BYTES = 1 << 20  # the parameters take 39 KB in float32 (78 KB in float64); anything far larger is not ours


def save_checkpoint(path: str | os.PathLike, net: Net, meta: dict | None = None) -> Path:
    """Parameters by name, plus {"format", "config", "meta"} as the JSON description; written atomically."""
    return checkpoint.save(path, net.state_dict(), {"format": FORMAT, "config": asdict(net.config), "meta": meta or {}})


def load_checkpoint(path: str | os.PathLike, dtype=np.float32) -> tuple[Net, dict]:
    """(net, meta) from a checkpoint; a CheckpointError (a ValueError) naming what is wrong."""
    arrays, description = checkpoint.load(path, MAX_BYTES)
    if description.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path} has format {description.get('format')!r}, expected {FORMAT!r}")
    config, meta = description.get("config"), description.get("meta", {})
    if not isinstance(config, dict) or not isinstance(meta, dict):
        raise CheckpointError(f"checkpoint {path}: 'config' and 'meta' must be JSON objects")
    try:
        config = Config(**config)
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"checkpoint {path} has a bad config ({error})") from None
    net = Net(config, dtype=dtype)
    try:
        net.load_state_dict(arrays)
    except ValueError as error:
        raise CheckpointError(f"checkpoint {path}: {error}") from None
    return net, meta
