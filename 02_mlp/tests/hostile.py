"""Hostile checkpoint files for the bad-input tests, built in milliseconds without writing gigabytes.

`zip_bomb` writes a real, valid `.npz` of about 4 MB whose `0.W.npy` member inflates to 4 GB
of zeros (a float32 array of shape (10^9,)): `np.load(path)["0.W"]` would allocate all of it.
The deflate stream of 16 MiB of zeros, cut with a full flush, is the same bytes every time, so
the member is that block repeated; its CRC-32 comes from zlib's crc32_combine, ported below.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, matrix[n]) for n in range(32)]


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """CRC-32 of A + B from crc(A), crc(B) and len(B) (zlib's crc32_combine)."""
    odd = [0xEDB88320] + [1 << n for n in range(31)]  # the operator for one zero bit
    even = _gf2_square(odd)
    odd = _gf2_square(even)
    while length2:
        even = _gf2_square(odd)
        if length2 & 1:
            crc1 = _gf2_times(even, crc1)
        length2 >>= 1
        if not length2:
            break
        odd = _gf2_square(even)
        if length2 & 1:
            crc1 = _gf2_times(odd, crc1)
        length2 >>= 1
    return crc1 ^ crc2


def zeros_crc(length: int) -> int:
    """crc32(bytes(length)) by doubling a 1 MiB block's CRC, without the bytes."""
    result = 0  # the CRC of nothing
    piece, piece_length = zlib.crc32(bytes(1 << 20)), 1 << 20
    blocks, rest = divmod(length, piece_length)
    while blocks:
        if blocks & 1:
            result = crc32_combine(result, piece, piece_length)
        piece, piece_length = crc32_combine(piece, piece, piece_length), piece_length * 2
        blocks >>= 1
    return crc32_combine(result, zlib.crc32(bytes(rest)), rest)


def npy_header(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)  # object arrays too: the tests' hostile input
    return buffer.getvalue()


def write_zip(path: Path, members: list[tuple[str, bytes, int, int, int]]) -> Path:
    """A zip of (name, stored bytes, method, crc, uncompressed size) members, no zip64."""
    local, central = bytearray(), bytearray()
    for name, data, method, crc, size in members:
        encoded = name.encode()
        offset = len(local)
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size, len(encoded), 0)
        local += encoded + data
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(data), size, len(encoded), 0, 0, 0,
            0, 0, offset,
        )  # fmt: skip
        central += encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))
    return path


def stored(name: str, array: np.ndarray) -> tuple[str, bytes, int, int, int]:
    data = _npy_bytes(array)
    return name + ".npy", data, 0, zlib.crc32(data), len(data)


def meta_member(meta: dict) -> tuple[str, bytes, int, int, int]:
    return stored("meta", np.array(json.dumps(meta)))


def zip_bomb(path: Path, meta: dict, elements: int = 10**9) -> Path:
    """A ~4 MB .npz whose 0.W member inflates to 4 * elements bytes of float32 zeros."""
    header = npy_header((elements,))
    block = bytes(1 << 24)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(header) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    size = 4 * elements
    blocks, rest = divmod(size, len(block))
    tail = compressor.compress(bytes(rest)) + compressor.flush()
    data = first + repeated * blocks + tail
    crc = crc32_combine(zlib.crc32(header), zeros_crc(size), size)
    return write_zip(path, [meta_member(meta), ("0.W.npy", data, 8, crc, len(header) + size)])


def huge_header(path: Path, meta: dict, shape: tuple[int, ...] = (10**6, 10**6)) -> Path:
    """An .npz whose 0.W header claims `shape` but holds a few bytes (np.load: _ArrayMemoryError)."""
    data = npy_header(shape) + bytes(64)
    return write_zip(path, [meta_member(meta), ("0.W.npy", data, 0, zlib.crc32(data), len(data))])
