"""Reading a training text: a file on disk, or a data file registered in `shared.data`."""

from __future__ import annotations

from pathlib import Path

DATA_NAMES = ("taylorswift.txt", "tinyshakespeare.txt")


def read_input_text(name: str) -> str:
    """The text of a file path, or of a registered data file (taylorswift.txt, tinyshakespeare.txt).

    Exits with a clear message (SystemExit) when neither exists or the data cannot be fetched.
    """
    path = Path(name)
    if path.is_file():
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise SystemExit(f"error: {path} is not UTF-8 text ({error})") from None
    from shared.data import REGISTRY, DataError, read_text

    if name in REGISTRY:
        try:
            return read_text(name)
        except DataError as error:
            raise SystemExit(f"error: {error}") from None
    raise SystemExit(f"error: {name} is neither a file nor a registered data file ({', '.join(DATA_NAMES)})")
