"""The command-line shape every project shares, and its one error path.

Every project runs as `python -m <package> <command> [options]`:

- no command runs the folder's main job (`train`, or a demo);
- `repro` reruns the README results table and writes `results.json` (`--only NAME`,
  repeatable, picks rows; `--seeds` where seeds matter);
- each folder adds its own commands (`sample`, `translate`, `encode`, ...).

Every command takes the same four options with the same meanings:

    --out DIR     where outputs go; default runs/<folder>/<command> under the current folder
    --seed N      the seed of every random number of the run
    --threads N   BLAS threads (default 1; overrides OPENBLAS_NUM_THREADS)
    --force       replace the outputs of an earlier run in --out

Every expected failure (missing or corrupt data, a bad value, a bad checkpoint, an unwritable
path) ends as one line `error: ...` on stderr and exit status 2, never a traceback. Code raises
`CLIError`, `ValueError`, `OSError` or `shared.data.DataError`; `App.main` turns them into that
line. An interrupt (Ctrl-C, or SIGTERM, which is turned into one) exits with status 130 after
the command has had its chance to save.

A project's `__main__.py`, in outline:

    app = App("micrograd", "01_micrograd", __doc__, default="train")
    train = app.command("train", cmd_train, help="train on two moons")
    train.add_argument("--steps", type=positive_int, default=100)
    app.command("repro", cmd_repro, help="rerun the README table", only=["moons", "grad"])

    def main(argv=None) -> int:
        return app.main(argv)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from .threads import MAX_THREADS, set_threads

__all__ = [
    "App",
    "CLIError",
    "bounded_float",
    "bounded_int",
    "finite_float",
    "header",
    "non_negative_float",
    "non_negative_int",
    "positive_float",
    "positive_int",
    "prepare_out",
    "probability",
    "wrote",
]

COMMON_OPTIONS = """\
common options (every command takes them):
  --out DIR     where outputs go (default: runs/{folder}/<command>)
  --seed N      seed of every random number in the run
  --threads N   BLAS threads (default 1; overrides OPENBLAS_NUM_THREADS)
  --force       replace an earlier run's outputs in --out
"""


class CLIError(Exception):
    """An expected failure: printed as one `error: ...` line, exit status 2."""


# --------------------------------------------------------------------------- argparse types
# Each returns the parsed value or raises argparse.ArgumentTypeError (one `error:` line).


def _number(text: str, kind):
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def bounded_int(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer in [minimum, maximum]."""

    def parse(text: str) -> int:
        value = _number(text, int)
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f">= {minimum}"
            raise argparse.ArgumentTypeError(f"{value} is out of range (an integer {bounds})")
        return value

    parse.__name__ = "integer"
    return parse


def bounded_float(minimum: float, maximum: float) -> Callable[[str], float]:
    """An argparse type: a finite number in [minimum, maximum]."""

    def parse(text: str) -> float:
        value = _number(text, float)
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"{text!r} is out of range (a number from {minimum:g} to {maximum:g})")
        return value

    parse.__name__ = "number"
    return parse


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    return bounded_int(1)(text)


def non_negative_int(text: str) -> int:
    """An argparse type: an integer >= 0."""
    return bounded_int(0)(text)


def finite_float(text: str) -> float:
    """An argparse type: any finite number (NaN and infinity are refused)."""
    return _number(text, float)


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0."""
    value = _number(text, float)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
    return value


def non_negative_float(text: str) -> float:
    """An argparse type: a finite number >= 0."""
    value = _number(text, float)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 0")
    return value


def probability(text: str) -> float:
    """An argparse type: a finite number in [0, 1)."""
    value = _number(text, float)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be in [0, 1)")
    return value


# --------------------------------------------------------------------------- outputs


def prepare_out(args: argparse.Namespace, *, resumable: bool = False) -> Path:
    """The run's output folder, created: `--out`, else runs/<folder>/<command>.

    Refuses a path that is a file, and a folder that already holds files unless `--force`
    is given or the command resumes the run it finds there (`resumable`). Call it before any
    long work starts, so a refusal costs nothing.
    """
    path = Path(args.out) if args.out else Path("runs") / args.folder / args.command
    if path.exists() and not path.is_dir():
        raise CLIError(f"--out {path} is a file, not a folder; choose a folder")
    if path.is_dir() and any(path.iterdir()) and not (args.force or resumable):
        raise CLIError(
            f"{path} already holds an earlier run's outputs; pass --force to replace them, or choose another --out"
        )
    created = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CLIError(f"cannot create the output folder {path}: {error.strerror or error}") from None
    if created:
        args._created_out = path  # removed again by `run` if the command fails before writing to it
    return path


def header(args: argparse.Namespace, file=None, **details) -> None:
    """Print the run's header line (to stdout, or `file`): command, seed, threads and any `details`."""
    from .threads import describe

    parts = [f"{args.command}", f"seed {args.seed}", describe()]
    parts += [f"{key.replace('_', ' ')} {value}" for key, value in details.items()]
    print(" | ".join(parts), file=file or sys.stdout, flush=True)


def wrote(*paths: str | Path, file=None) -> None:
    """Print where a command wrote its outputs (every command says so); a filter passes file=sys.stderr."""
    print("wrote " + ", ".join(str(p) for p in paths), file=file or sys.stdout, flush=True)


# --------------------------------------------------------------------------- the parser


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one `error:` line (and exit 2), like every other failure."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


class App:
    """One project's command line: commands, the common options, the error path."""

    def __init__(self, package: str, folder: str, description: str | None, default: str | None = None):
        self.package, self.folder, self.default = package, folder, default
        self.parser = _Parser(
            prog=f"python -m {package}",
            description=description,
            epilog=COMMON_OPTIONS.format(folder=folder),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        self._commands = self.parser.add_subparsers(dest="command", metavar="<command>")

    def command(
        self,
        name: str,
        func: Callable[[argparse.Namespace], int | None],
        help: str,
        *,
        only: Iterable[str] | None = None,
        seeds: bool = False,
        seed: int | None = 0,
    ) -> argparse.ArgumentParser:
        """Add a command with the common options (and `--only`/`--seeds` when asked); returns its parser."""
        parser = self._commands.add_parser(
            name,
            help=help,
            description=help,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.error = _Parser.error.__get__(parser)  # subparsers: the same one-line error
        parser.add_argument(
            "--out", default=None, metavar="DIR", help=f"output folder (default: runs/{self.folder}/{name})"
        )
        parser.add_argument(
            "--seed",
            type=bounded_int(0, 2**32 - 1),
            default=seed,
            help=f"random seed (default: {seed})" if seed is not None else "random seed (default: the command's own)",
        )
        parser.add_argument("--threads", type=bounded_int(1, MAX_THREADS), default=1, help="BLAS threads (default: 1)")
        parser.add_argument("--force", action="store_true", help="replace an earlier run's outputs in --out")
        if only is not None:
            names = list(only)
            parser.add_argument(
                "--only",
                action="append",
                choices=names,
                metavar="NAME",
                help=f"run only this row (repeatable): {', '.join(names)}",
            )
        if seeds:
            parser.add_argument(
                "--seeds",
                type=bounded_int(0, 2**32 - 1),
                nargs="+",
                default=None,
                metavar="S",
                help="run each seed and report the spread",
            )
        parser.set_defaults(func=func, command=name, folder=self.folder)
        return parser

    def parse(self, argv: list[str] | None = None) -> argparse.Namespace:
        argv = sys.argv[1:] if argv is None else list(argv)
        if self.default and (not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help"))):
            argv = [self.default, *argv]  # no command, only options: the folder's main job
        if not argv:
            self.parser.print_help()
            raise SystemExit(2)
        args = self.parser.parse_args(argv)
        if getattr(args, "only", None):
            args.only = list(dict.fromkeys(args.only))  # `--only a --only a` runs row a once
        return args

    def main(self, argv: list[str] | None = None) -> int:
        """Parse, set threads, run the command; expected failures become `error: ...`, exit 2."""
        try:
            args = self.parse(argv)
        except SystemExit as stop:
            return int(stop.code or 0)
        return run(args.func, args)


def _interrupt_on_sigterm():
    """Treat SIGTERM like Ctrl-C, so a command that saves on KeyboardInterrupt saves on both.

    Returns the previous handler (to restore), or None where no handler could be installed.
    """

    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (tests running main() in a worker)
        return None


def error_line(error: BaseException) -> str:
    """`error: <message>` on one line (a message's later lines are joined with ' ')."""
    message = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, KeyError) and error.args:
        message = str(error.args[0])
    return f"error: {message}"


def expected_errors() -> tuple[type[BaseException], ...]:
    """The exception types that are a user's mistake or the environment's, not a bug."""
    from .data import DataError

    return (
        CLIError,
        DataError,
        ValueError,  # includes checkpoint errors, UnicodeDecodeError and json.JSONDecodeError
        OSError,  # missing files, permissions, full disks
        MemoryError,  # a last resort: sizes are checked before allocating
        FloatingPointError,  # a computation that diverged under np.errstate(all="raise")
        RecursionError,  # hostile nesting in a JSON file
        json.JSONDecodeError,
    )


def _remove_if_empty(path: Path | None) -> None:
    """Remove an output folder this run created, if the run failed before writing anything to it."""
    try:
        if path is not None and path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    except OSError:
        pass


def run(func: Callable[[argparse.Namespace], int | None], args: argparse.Namespace) -> int:
    """Run a parsed command: set threads, make SIGTERM an interrupt, map failures to exit codes."""
    set_threads(getattr(args, "threads", 1))
    previous = _interrupt_on_sigterm()
    try:
        status = func(args)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except expected_errors() as error:
        _remove_if_empty(getattr(args, "_created_out", None))
        if isinstance(error, MemoryError):
            error = MemoryError("out of memory; choose smaller sizes")
        print(error_line(error), file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return int(status or 0)
