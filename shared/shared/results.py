"""Where a run writes its outputs, and the `results.json` every project writes.

Conventions (see the top README): outputs go to `--out`, by default `runs/<name>/` under
the current folder; `results.json` holds the headline metrics under plain snake_case
names (`test_accuracy`, `dev_loss`, ...), nested by configuration where there are
several, fractions rather than percents, plus `command`, `seconds` and `seed`.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["command_line", "output_dir", "write_results"]


def output_dir(out: str | os.PathLike | None, name: str) -> Path:
    """`out` if given, else `runs/<name>`; created if missing."""
    path = Path(out) if out else Path("runs") / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def command_line() -> str:
    """The command that is running, as a user would type it (`python -m pkg args`)."""
    program = sys.argv[0]
    path = Path(program)
    if path.name == "__main__.py":
        program = "python -m " + path.parent.name
    elif path.suffix == ".py" and (path.parent / "__init__.py").is_file():  # python -m package.module
        program = f"python -m {path.parent.name}.{path.stem}"
    return " ".join([program, *sys.argv[1:]])


def _check_finite(value, where: str) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _check_finite(inner, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, inner in enumerate(value):
            _check_finite(inner, f"{where}[{index}]")
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"results.json would hold a non-finite number at {where}: {value}")


def write_results(
    out: str | os.PathLike,
    metrics: Mapping,
    seconds: float,
    seed: int | None,
    command: str | None = None,
) -> Path:
    """Write `results.json` in the folder `out` and return its path.

    `metrics` are the headline numbers (nested dicts allowed); `command`, `seconds` and
    `seed` are added at the top level. Values must be JSON numbers, strings, lists or
    dicts (convert NumPy scalars with float()/int() first); NaN and infinity are refused.
    """
    for key in ("command", "seconds", "seed"):
        if key in metrics:
            raise ValueError(f"'{key}' is added by write_results; do not put it in metrics")
    payload = {**metrics, "command": command or command_line(), "seconds": round(float(seconds), 3), "seed": seed}
    _check_finite(payload, "results")
    path = Path(out) / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path
