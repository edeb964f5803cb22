"""Finding inputs: a training text (a file, or a data file registered in `shared.data`) and OpenAI's files.

This is the folder's data plumbing; the tokenizer modules themselves read no registry.
"""

from __future__ import annotations

from pathlib import Path

from shared.checks import check_memory
from shared.data import REGISTRY, read_bytes, read_text
from shared.data import fetch as fetch_data

from .pretrained import GPT2Tokenizer, GPT4Tokenizer, RankedBPE

DATA_NAMES = ("taylorswift.txt", "tinyshakespeare.txt")


def decode_utf8(data: bytes, where: str) -> str:
    """`data` as text, or ValueError naming `where` and the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 1].hex()
        raise ValueError(f"{where} is not UTF-8 text (byte 0x{bad} at offset {error.start}: {error.reason})") from None


def read_file_text(path: str | Path) -> str:
    """A UTF-8 text file's content, line endings untouched (\\r\\n changes token ids); clear errors."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    check_memory(6 * path.stat().st_size, f"reading {path}")  # the bytes, then a str of up to 4 bytes a character
    return decode_utf8(path.read_bytes(), str(path))


def read_input_text(name: str) -> str:
    """The text of a file path, or of a registered data file (taylorswift.txt, tinyshakespeare.txt)."""
    if Path(name).is_file():
        return read_file_text(name)
    if name in REGISTRY:
        return read_text(name)  # DataError (missing, corrupt) is an expected failure of the command line
    raise FileNotFoundError(f"{name} is neither a file nor a registered data file ({', '.join(DATA_NAMES)})")


def get_encoding(name: str) -> RankedBPE:
    """'gpt2' or 'cl100k_base' from the files that `shared.data` fetches (DNN_DATA_DIR, cache or download)."""
    if name == "gpt2":
        return GPT2Tokenizer.from_files(
            read_bytes(fetch_data("gpt2/vocab.bpe")), read_bytes(fetch_data("gpt2/encoder.json"))
        )
    if name in ("cl100k_base", "gpt4"):
        return GPT4Tokenizer.from_file(read_bytes(fetch_data("gpt4/cl100k_base.tiktoken")))
    raise ValueError(f"unknown encoding {name!r}; known: 'gpt2', 'cl100k_base'")
