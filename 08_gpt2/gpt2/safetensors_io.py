"""A reader and writer for the safetensors format, written from its spec, and wary of hostile files.

Layout (https://github.com/huggingface/safetensors, "Format"):

    8 bytes     N, the header size, unsigned little-endian 64-bit
    N bytes     a UTF-8 JSON object: {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
                ..., "__metadata__": {str: str}} (the metadata entry is optional)
    rest        the byte buffer; offsets are relative to its start, tensors are little-endian, row-major

Reading never trusts the header: the header size must fit in the file (and under 100 MB, the
spec's limit), every entry must be well formed, its offsets must lie inside the buffer, agree
with dtype x shape, and not overlap another tensor's, all checked before any array is made. So a
malformed or malicious file raises `SafetensorsError`, never a crash or a huge allocation.
F32, F16 and BF16 tensors are returned as float32; other dtypes are refused.
Not here: zero-copy memory mapping, or dtypes this project does not use (integers, F64, FP8).
"""

from __future__ import annotations

import itertools
import json
import os
import struct
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

__all__ = ["MAX_HEADER_BYTES", "SafetensorsError", "read_safetensors", "write_safetensors"]

MAX_HEADER_BYTES = 100_000_000  # the spec's limit, which keeps a hostile header from exhausting memory
_ITEMSIZE = {"F32": 4, "F16": 2, "BF16": 2}
_KNOWN_UNSUPPORTED = {"F64", "F8_E4M3", "F8_E5M2", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL"}


class SafetensorsError(ValueError):
    """The file is not a valid (or not a supported) safetensors file."""


def _to_float32(raw: bytes, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    if dtype == "F32":
        return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)
    if dtype == "F16":
        return np.frombuffer(raw, dtype="<f2").astype(np.float32).reshape(shape)
    # BF16 is the top half of a float32: shift its 16 bits into the high half of a 32-bit word.
    bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
    return bits.view(np.float32).reshape(shape)


def _parse_header(path: Path, file_size: int, handle) -> tuple[dict, int]:
    if file_size < 8:
        raise SafetensorsError(f"{path} is {file_size} bytes: too short to hold the 8-byte header size")
    (header_size,) = struct.unpack("<Q", handle.read(8))
    if header_size > file_size - 8:
        raise SafetensorsError(f"header size {header_size} exceeds the file ({file_size} bytes)")
    if header_size > MAX_HEADER_BYTES:
        raise SafetensorsError(f"header size {header_size} is over the format's limit of {MAX_HEADER_BYTES} bytes")
    try:
        header = json.loads(handle.read(header_size).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SafetensorsError(f"the header is not valid UTF-8 JSON ({error})") from None
    if not isinstance(header, dict):
        raise SafetensorsError("the header must be a JSON object")
    return header, 8 + header_size


def _check_entry(name: str, entry, buffer_size: int) -> tuple[str, tuple[int, ...], int, int]:
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise SafetensorsError(f"tensor {name!r}: entry must have exactly dtype, shape and data_offsets")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in _ITEMSIZE:
        kind = "unsupported" if dtype in _KNOWN_UNSUPPORTED else "unknown"
        raise SafetensorsError(f"tensor {name!r}: {kind} dtype {dtype!r} (supported: {', '.join(_ITEMSIZE)})")

    def is_count(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    if not isinstance(shape, list) or not all(is_count(d) for d in shape):
        raise SafetensorsError(f"tensor {name!r}: shape must be a list of non-negative integers, got {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(is_count(o) for o in offsets)):
        raise SafetensorsError(f"tensor {name!r}: data_offsets must be [begin, end], got {offsets!r}")
    begin, end = offsets
    if not begin <= end <= buffer_size:
        raise SafetensorsError(
            f"tensor {name!r}: data_offsets [{begin}, {end}] lie outside the {buffer_size}-byte data buffer"
        )
    count = 1
    for d in shape:
        count *= d  # Python ints: no overflow for a hostile shape
    if count * _ITEMSIZE[dtype] != end - begin:
        raise SafetensorsError(
            f"tensor {name!r}: shape {shape} of {dtype} needs {count * _ITEMSIZE[dtype]} bytes "
            f"but data_offsets span {end - begin}"
        )
    return dtype, tuple(shape), begin, end


def read_safetensors(
    path: str | os.PathLike,
    expected_shapes: Callable[[str], tuple | None] | Mapping[str, tuple] | None = None,
) -> dict[str, np.ndarray]:
    """Read every tensor of a safetensors file as a float32 array, validating the whole header first.

    `expected_shapes` (a mapping, or a function name -> shape or None) makes a tensor whose
    stored shape disagrees an error before its bytes are read.
    """
    path = Path(path)
    if not path.is_file():
        raise SafetensorsError(f"{path} does not exist or is not a file")
    lookup = expected_shapes.get if isinstance(expected_shapes, Mapping) else expected_shapes
    file_size = path.stat().st_size
    with open(path, "rb") as handle:
        header, data_start = _parse_header(path, file_size, handle)
        buffer_size = file_size - data_start
        metadata = header.pop("__metadata__", None)
        if metadata is not None and not (
            isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
        ):
            raise SafetensorsError("__metadata__ must map strings to strings")
        entries = {name: _check_entry(name, entry, buffer_size) for name, entry in header.items()}
        spans = sorted((begin, end, name) for name, (_, _, begin, end) in entries.items() if end > begin)
        for (_, end_a, name_a), (begin_b, _, name_b) in itertools.pairwise(spans):
            if begin_b < end_a:
                raise SafetensorsError(f"tensors {name_a!r} and {name_b!r} overlap in the data buffer")
        if lookup is not None:
            for name, (_, shape, _, _) in entries.items():
                wanted = lookup(name)
                if wanted is not None and tuple(wanted) != shape:
                    raise SafetensorsError(
                        f"tensor {name!r} has shape {list(shape)} but the config needs {list(wanted)}"
                    )
        tensors = {}
        for name, (dtype, shape, begin, end) in entries.items():
            handle.seek(data_start + begin)
            raw = handle.read(end - begin)
            if len(raw) != end - begin:
                raise SafetensorsError(f"tensor {name!r}: the file ended early")
            tensors[name] = _to_float32(raw, dtype, shape)
    return tensors


def write_safetensors(
    path: str | os.PathLike, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None
) -> Path:
    """Write float32 tensors (in name order, 8-byte aligned header) in the safetensors format."""
    path = Path(path)
    header: dict = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    arrays, offset = [], 0
    for name in sorted(tensors):
        if name == "__metadata__":
            raise ValueError("'__metadata__' is reserved and cannot name a tensor")
        array = np.asarray(tensors[name], dtype="<f4")  # tobytes() writes C order
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + array.nbytes]}
        arrays.append(array)
        offset += array.nbytes
    blob = json.dumps(header, separators=(",", ":")).encode("utf-8")
    blob += b" " * (-len(blob) % 8)  # pad with spaces so the data buffer starts 8-byte aligned
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(struct.pack("<Q", len(blob)))
        handle.write(blob)
        for array in arrays:
            handle.write(array.tobytes())
    os.replace(tmp, path)  # never leave a half-written file under the final name
    return path
