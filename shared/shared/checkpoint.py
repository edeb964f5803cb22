"""Checkpoints: one `.npz` format for every project, written atomically, read without pickle.

A checkpoint is a NumPy `.npz` archive holding named arrays plus one entry `meta`: a JSON
object (stored as a 0-d unicode array) that says what the arrays are (the model's config, the
step, the data preprocessing, ...), so a command can rebuild the model without being told.

Writing goes to a temporary file in the same folder, then `os.replace`: an interrupted save
never leaves a half-written checkpoint, and the previous one survives until the new one is
complete.

Reading treats the file as hostile until proven otherwise. Before any array is allocated it
checks, from the zip directory and each member's `.npy` header alone: that there is no
pickle or object dtype, that each header's shape fits the bytes the member really holds, and
that the total stays under `max_bytes` (2 GiB by default) and half the memory this process can
get. So a 4 MB file that claims 4 GB, or a header that
says shape (10^6, 10^6), is refused with a message instead of exhausting memory. The JSON
`meta` is size-limited and a pathological nesting is refused, not a RecursionError.

What this module does not do: check that the arrays fit a model (names, shapes): each project
does that against its own model, after checking the config's sizes.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .checks import available_memory

__all__ = ["MAX_BYTES", "CheckpointError", "load", "load_json", "save"]

META_KEY = "meta"
MAX_BYTES = 2 * 2**30  # the largest checkpoint any project here writes is GPT-2 124M, ~0.5 GB in float32
MAX_META_BYTES = 16 * 2**20
MAX_JSON_DEPTH = 64


class CheckpointError(ValueError):
    """A checkpoint is missing, malformed, too large, or does not fit what it claims to be."""


def save(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], meta: Mapping) -> Path:
    """Write `arrays` and the JSON-serialisable `meta` to `path` atomically; return the path."""
    path = Path(path)
    if META_KEY in arrays:
        raise ValueError(f"an array is named {META_KEY!r}, which is reserved for the description")
    for name, value in arrays.items():
        if np.asarray(value).dtype.hasobject:
            raise ValueError(f"array {name!r} has an object dtype, which cannot be saved without pickle")
    text = json.dumps(dict(meta), allow_nan=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a checkpoint gets the usual file mode
    try:
        with os.fdopen(fd, "wb") as f:  # an open file, so numpy appends no second `.npz`
            np.savez(f, **{name: np.asarray(value) for name, value in arrays.items()}, **{META_KEY: np.array(text)})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _header(member, name: str, path: Path) -> tuple[tuple[int, ...], np.dtype]:
    try:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_1_0(member)
        else:
            shape, _fortran, dtype = np.lib.format.read_array_header_2_0(member)
    except (ValueError, OSError, EOFError, SyntaxError) as error:
        raise CheckpointError(f"{path}: entry {name!r} is not a valid .npy array ({error})") from None
    return shape, dtype


def load(
    path: str | os.PathLike, max_bytes: int = MAX_BYTES, *, require_meta: bool = True
) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays by name, meta) from a checkpoint, or a CheckpointError saying exactly why not."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} is not a file")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise CheckpointError(f"{path} is not a readable .npz checkpoint ({error})") from None
    arrays: dict[str, np.ndarray] = {}
    max_bytes = min(max_bytes, int(available_memory() * 0.5))  # never more than half of what the machine has
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        total = 0
        shapes = {}
        for info in infos:
            if not info.filename.endswith(".npy"):
                raise CheckpointError(f"{path}: entry {info.filename!r} is not a .npy array")
            name = info.filename[: -len(".npy")]
            try:
                with archive.open(info) as member:
                    shape, dtype = _header(member, name, path)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as error:
                raise CheckpointError(f"{path}: entry {name!r} cannot be read ({error})") from None
            if dtype.hasobject:
                raise CheckpointError(f"{path}: entry {name!r} holds Python objects (pickle), which are refused")
            if any(not isinstance(d, int) or d < 0 for d in shape):
                raise CheckpointError(f"{path}: entry {name!r} has an invalid shape {shape}")
            nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
            if nbytes > info.file_size:
                raise CheckpointError(
                    f"{path}: entry {name!r} claims shape {shape} ({nbytes:,} bytes) but holds only "
                    f"{info.file_size:,} bytes: the file is corrupt or crafted"
                )
            limit = MAX_META_BYTES if name == META_KEY else max_bytes
            total += nbytes
            if nbytes > limit or total > max_bytes:
                raise CheckpointError(
                    f"{path}: entry {name!r} would need {nbytes:,} bytes (total {total:,}), over the limit of "
                    f"{limit:,} bytes for a checkpoint"
                )
            shapes[name] = info
        for name, info in shapes.items():
            try:
                with archive.open(info) as member:
                    arrays[name] = np.lib.format.read_array(member, allow_pickle=False)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError) as error:
                raise CheckpointError(f"{path}: entry {name!r} cannot be read ({error})") from None
    if META_KEY not in arrays:
        if require_meta:
            raise CheckpointError(f"{path} has no '{META_KEY}' entry: not a checkpoint written by this project")
        return arrays, {}
    meta_array = arrays.pop(META_KEY)
    if meta_array.shape != () or meta_array.dtype.kind != "U":
        raise CheckpointError(f"{path}: its '{META_KEY}' entry must be a JSON string")
    meta = _parse_json(str(meta_array), f"{path} '{META_KEY}'")
    return arrays, meta


def _depth(value, limit: int, depth: int = 0) -> int:
    if depth > limit:
        return depth
    if isinstance(value, dict):
        return max((_depth(v, limit, depth + 1) for v in value.values()), default=depth)
    if isinstance(value, list):
        return max((_depth(v, limit, depth + 1) for v in value), default=depth)
    return depth


def _parse_json(text: str, where: str, *, want_object: bool = True):
    def refuse(constant: str):
        raise CheckpointError(f"{where} holds {constant}, which is not a number a config may hold")

    try:
        value = json.loads(text, parse_constant=refuse)
    except RecursionError:
        raise CheckpointError(f"{where} is nested too deeply to be a config") from None
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{where} is not valid JSON ({error})") from None
    if _depth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise CheckpointError(f"{where} is nested more than {MAX_JSON_DEPTH} levels deep")
    if want_object and not isinstance(value, dict):
        raise CheckpointError(f"{where} must be a JSON object, not {type(value).__name__}")
    return value


def load_json(path: str | os.PathLike, max_bytes: int = MAX_META_BYTES, *, want_object: bool = True):
    """A JSON file (config.json, tokenizer.json, ...) read with a size and nesting limit."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist or is not a file")
    size = path.stat().st_size
    if size > max_bytes:
        raise CheckpointError(f"{path} is {size:,} bytes, over the limit of {max_bytes:,} for a JSON file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CheckpointError(f"{path} is not UTF-8 text ({error.reason})") from None
    return _parse_json(text, str(path), want_object=want_object)
