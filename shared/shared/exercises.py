"""Exercises: every folder becomes a course with checked blanks, made from its own tested code.

In a project's source the learner-facing core is marked, inside a function body:

    # exercise: NAME: one-line task (what to compute; the README section that derives it)
    ...the solution...
    # end exercise

and `NN_name/exercises.json` lists the exercises in learner order, each with the README section
to read first and the pytest arguments (run from the folder) that check it:

    {"exercises": [{"name": "NAME", "read": "README.md#section", "tests": ["tests/test_x.py", "-k", "y"]}]}

Three commands (stdlib only; the checks need pytest):

    python -m shared.exercises make NN_name [--out DIR] [--force]
        copy the folder and shared/ to DIR (default exercises/NN_name), each marked block replaced by
        `raise NotImplementedError("exercise NAME: task")`, and write DIR/EXERCISES.md
    python -m shared.exercises check [DIR] [--only NAME]
        run each exercise's tests against the learner's copy; a table of passed / failed / not started
    python -m shared.exercises verify NN_name [--only NAME]
        mutation test of the teaching path: blanking each exercise alone must make its tests fail,
        and with nothing blanked they must all pass

Because the blanks are made from the tested solution, they never drift from it, and `verify` (run
in CI) proves that each blank is really checked.

What this module does not do: grade style, or check anything the listed tests do not.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Exercise", "ExerciseError", "blank", "find_exercises", "load_plan", "main"]

OPEN = re.compile(r"^(?P<indent>[ \t]*)# exercise: (?P<name>[a-z][a-z0-9_]*): (?P<task>\S.*?)\s*$")
CLOSE = re.compile(r"^(?P<indent>[ \t]*)# end exercise\s*$")
LOOKS_LIKE_MARKER = re.compile(r"^\s*#\s*(end\s+)?exercise\b")
IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info", ".pytest_cache", "runs", "exercises", ".nox")
PLAN_FILE = "exercises.json"
STATE_FILE = ".exercises.json"


class ExerciseError(ValueError):
    """Markers or exercises.json that cannot be used: printed as one `error:` line, exit 2."""


@dataclass(frozen=True)
class Exercise:
    name: str
    task: str
    file: Path  # relative to the project folder
    start: int  # 0-based index of the `# exercise:` line
    end: int  # 0-based index of the `# end exercise` line
    indent: str
    read: str = ""
    tests: tuple[str, ...] = ()

    @property
    def line(self) -> int:
        return self.start + 1


# --------------------------------------------------------------------------- parsing


def parse_markers(text: str, file: Path) -> list[Exercise]:
    """The marked blocks of one source file; nested, unbalanced or malformed markers are errors."""
    found, open_ = [], None
    for index, line in enumerate(text.splitlines()):
        opened, closed = OPEN.match(line), CLOSE.match(line)
        if opened:
            if open_ is not None:
                raise ExerciseError(
                    f"{file}:{index + 1}: exercise {opened['name']!r} opens inside exercise "
                    f"{open_['name']!r} (line {open_['start'] + 1}); exercises cannot be nested"
                )
            open_ = {"name": opened["name"], "task": opened["task"], "indent": opened["indent"], "start": index}
        elif closed:
            if open_ is None:
                raise ExerciseError(f"{file}:{index + 1}: '# end exercise' without an open exercise")
            if closed["indent"] != open_["indent"]:
                raise ExerciseError(
                    f"{file}:{index + 1}: '# end exercise' is not indented like its '# exercise:' line "
                    f"(line {open_['start'] + 1})"
                )
            if index == open_["start"] + 1:
                raise ExerciseError(f"{file}:{index + 1}: exercise {open_['name']!r} encloses no code")
            found.append(Exercise(file=file, end=index, **open_))
            open_ = None
        elif LOOKS_LIKE_MARKER.match(line):
            raise ExerciseError(
                f"{file}:{index + 1}: malformed marker {line.strip()!r}; write "
                "'# exercise: name_in_snake_case: task' or '# end exercise'"
            )
    if open_ is not None:
        raise ExerciseError(f"{file}:{open_['start'] + 1}: exercise {open_['name']!r} is never closed")
    return found


def source_files(folder: Path) -> list[Path]:
    """The project's Python sources, tests excluded, relative to `folder`."""
    return sorted(
        path.relative_to(folder)
        for path in folder.rglob("*.py")
        if not ({"tests", "__pycache__", "runs", "build"} & set(path.relative_to(folder).parts))
    )


def find_exercises(folder: Path) -> dict[str, Exercise]:
    """Every marked block in the folder's sources, by name (names must be unique)."""
    exercises: dict[str, Exercise] = {}
    for relative in source_files(folder):
        for exercise in parse_markers((folder / relative).read_text(encoding="utf-8"), relative):
            if exercise.name in exercises:
                first = exercises[exercise.name]
                raise ExerciseError(
                    f"exercise {exercise.name!r} is marked twice: {first.file}:{first.line} and "
                    f"{exercise.file}:{exercise.line}"
                )
            exercises[exercise.name] = exercise
    return exercises


def load_plan(folder: Path) -> list[Exercise]:
    """The exercises in the order of `exercises.json`, each joined to its marker; mismatches are errors."""
    plan_path = folder / PLAN_FILE
    if not plan_path.is_file():
        raise ExerciseError(f"{folder} has no {PLAN_FILE}: it has no exercises yet")
    try:
        plan = json.loads(plan_path.read_text(encoding="utf-8"))
        entries = plan["exercises"]
        assert isinstance(entries, list)
    except (json.JSONDecodeError, KeyError, TypeError, AssertionError) as error:
        raise ExerciseError(f"{plan_path}: expected {{'exercises': [...]}} ({error})") from None
    marked = find_exercises(folder)
    ordered, seen = [], set()
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ExerciseError(f"{plan_path}: every entry needs a 'name': {entry!r}")
        name = entry["name"]
        tests = entry.get("tests")
        if name in seen:
            raise ExerciseError(f"{plan_path}: exercise {name!r} is listed twice")
        if name not in marked:
            raise ExerciseError(f"{plan_path}: exercise {name!r} has no '# exercise: {name}: ...' marker")
        if not (isinstance(tests, list) and tests and all(isinstance(t, str) for t in tests)):
            raise ExerciseError(f"{plan_path}: exercise {name!r} needs 'tests', a list of pytest arguments")
        seen.add(name)
        ordered.append(Exercise(**{**marked[name].__dict__, "read": str(entry.get("read", "")), "tests": tuple(tests)}))
    unlisted = sorted(set(marked) - seen)
    if unlisted:
        raise ExerciseError(f"{plan_path}: marked but not listed: {', '.join(unlisted)}")
    return ordered


# --------------------------------------------------------------------------- blanking


def blank(text: str, exercises: list[Exercise]) -> str:
    """`text` with each given exercise's solution replaced by `raise NotImplementedError(...)`.

    The marker lines stay, so the learner writes between them and the copy can be blanked again.
    """
    lines = text.splitlines(keepends=True)
    for exercise in sorted(exercises, key=lambda e: e.start, reverse=True):
        message = json.dumps(f"exercise {exercise.name}: {exercise.task}", ensure_ascii=False)
        stub = f"{exercise.indent}raise NotImplementedError({message})\n"
        lines[exercise.start + 1 : exercise.end] = [stub]
    return "".join(lines)


def blank_files(folder: Path, exercises: list[Exercise]) -> None:
    """Blank `exercises` in place in the copy at `folder`."""
    by_file: dict[Path, list[Exercise]] = {}
    for exercise in exercises:
        by_file.setdefault(exercise.file, []).append(exercise)
    for relative, group in by_file.items():
        path = folder / relative
        path.write_text(blank(path.read_text(encoding="utf-8"), group), encoding="utf-8")


# --------------------------------------------------------------------------- running the checks


@dataclass
class Outcome:
    name: str
    status: str  # passed | failed | not started
    detail: str = ""


def run_tests(project: Path, shared_root: Path, exercise: Exercise, timeout: float = 600) -> Outcome:
    """Run one exercise's tests against the copy at `project` (its packages shadow installed ones)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(project), str(shared_root), os.environ.get("PYTHONPATH", "")]),
    }
    env.setdefault("MPLBACKEND", "Agg")
    command = [sys.executable, "-m", "pytest", "-q", "-x", "--tb=short", "-p", "no:cacheprovider", *exercise.tests]
    try:
        done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Outcome(exercise.name, "failed", f"tests took over {timeout:.0f} s")
    output = done.stdout + done.stderr
    if done.returncode == 0:
        return Outcome(exercise.name, "passed")
    if done.returncode in (4, 5):
        return Outcome(exercise.name, "failed", f"pytest found no tests for {' '.join(exercise.tests)}")
    if f"NotImplementedError: exercise {exercise.name}:" in output:
        return Outcome(exercise.name, "not started")
    waiting = re.search(r"NotImplementedError: exercise ([a-z0-9_]+):", output)
    if waiting:  # the tests reached another exercise's blank first
        return Outcome(exercise.name, "not started", f"its tests need exercise {waiting[1]} first")
    return Outcome(exercise.name, "failed", first_useful_line(output))


def first_useful_line(output: str) -> str:
    """The first `E ` line of pytest's report (the assertion or the error), else its summary line."""
    for line in output.splitlines():
        if line.startswith("E "):
            return line[1:].strip()[:160]
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1][:160] if lines else "(no output)"


def _table(outcomes: list[Outcome]) -> str:
    width = max([len(o.name) for o in outcomes] + [8])
    rows = [f"{'exercise':{width}}  status       detail", f"{'-' * width}  -----------  ------"]
    rows += [f"{o.name:{width}}  {o.status:11}  {o.detail}" for o in outcomes]
    return "\n".join(rows)


# --------------------------------------------------------------------------- commands


def _project(name: str) -> Path:
    folder = Path(name.rstrip("/"))
    if not folder.is_dir() or not re.fullmatch(r"\d\d_\w+", folder.name):
        raise ExerciseError(f"{name} is not a project folder (NN_name) here; run from the repository root")
    return folder


def _shared_source(folder: Path) -> Path:
    shared = folder.resolve().parent / "shared"
    if not (shared / "shared" / "__init__.py").is_file():
        raise ExerciseError(f"no shared/ package beside {folder}")
    return shared


def _exercises_md(folder: Path, exercises: list[Exercise], out: Path) -> str:
    lines = [
        f"# Exercises for {folder.name}",
        "",
        "Each exercise below is a blank in this copy's source: a `raise NotImplementedError` between the lines "
        "`# exercise: NAME: ...` and `# end exercise`. Read the section named, write the code between the markers, "
        "and check it. Work in order: later exercises build on earlier ones.",
        "",
        "Set up once (in a virtual environment): `pip install pytest -e shared -e " + folder.name + "`",
        "",
        f"Check all: `python -m shared.exercises check {out}`; one: add `--only NAME`.",
        "",
    ]
    for number, exercise in enumerate(exercises, 1):
        lines += [
            f"{number}. **{exercise.name}** ({folder.name}/{exercise.file}, line {exercise.line}): {exercise.task}",
            f"   - read first: {folder.name}/{exercise.read or 'README.md'}",
            f"   - check: `python -m shared.exercises check {out} --only {exercise.name}`",
        ]
    return "\n".join(lines) + "\n"


def cmd_make(args) -> int:
    folder = _project(args.folder)
    exercises = load_plan(folder)
    out = Path(args.out) if args.out else Path("exercises") / folder.name
    if out.exists() and any(out.iterdir()) and not args.force:
        raise ExerciseError(f"{out} already holds exercises (maybe your work); pass --force to replace it")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(folder, out / folder.name, ignore=IGNORED)
    shutil.copytree(_shared_source(folder), out / "shared", ignore=IGNORED)
    blank_files(out / folder.name, exercises)
    (out / "EXERCISES.md").write_text(_exercises_md(folder, exercises, out), encoding="utf-8")
    (out / STATE_FILE).write_text(json.dumps({"project": folder.name}) + "\n", encoding="utf-8")
    print(f"wrote {len(exercises)} exercises to {out} (read {out / 'EXERCISES.md'})")
    return 0


def _copy_root(directory: str | None) -> Path:
    if directory:
        root = Path(directory)
    else:
        made = sorted(p.parent for p in Path("exercises").glob(f"*/{STATE_FILE}"))
        if len(made) != 1:
            raise ExerciseError("name the exercises folder to check (e.g. exercises/01_micrograd)")
        root = made[0]
    if not (root / STATE_FILE).is_file():
        raise ExerciseError(f"{root} was not made by `python -m shared.exercises make`")
    return root


def cmd_check(args) -> int:
    root = _copy_root(args.directory)
    project = root / json.loads((root / STATE_FILE).read_text())["project"]
    exercises = _select(load_plan(project), args.only)
    outcomes = []
    for exercise in exercises:
        outcomes.append(run_tests(project, root / "shared", exercise))
        print(f"  {exercise.name}: {outcomes[-1].status}", file=sys.stderr, flush=True)
    print(_table(outcomes))
    passed = sum(o.status == "passed" for o in outcomes)
    print(f"{passed} of {len(outcomes)} exercises pass")
    return 0 if passed == len(outcomes) else 1


def _select(exercises: list[Exercise], only: list[str] | None) -> list[Exercise]:
    if not only:
        return exercises
    names = {e.name for e in exercises}
    unknown = sorted(set(only) - names)
    if unknown:
        raise ExerciseError(f"unknown exercise {', '.join(unknown)}; known: {', '.join(e.name for e in exercises)}")
    return [e for e in exercises if e.name in only]


def cmd_verify(args) -> int:
    folders = [_project(name) for name in args.folders] or sorted(
        p.parent for p in Path(".").glob(f"[0-9][0-9]_*/{PLAN_FILE}")
    )
    if not folders:
        print("verify: no project folder here has an exercises.json yet")
        return 0
    failures = 0
    for folder in folders:
        exercises = _select(load_plan(folder), args.only)
        with tempfile.TemporaryDirectory(prefix="verify-") as tmp:
            copy = Path(tmp) / folder.name
            shutil.copytree(folder, copy, ignore=IGNORED)
            shared_copy = Path(tmp) / "shared"
            shutil.copytree(_shared_source(folder), shared_copy, ignore=IGNORED)
            outcomes = []
            for exercise in exercises:
                original = (copy / exercise.file).read_text(encoding="utf-8")
                blank_files(copy, [exercise])
                try:
                    blanked = run_tests(copy, shared_copy, exercise)
                finally:
                    (copy / exercise.file).write_text(original, encoding="utf-8")
                solved = run_tests(copy, shared_copy, exercise)
                ok = blanked.status == "not started" and solved.status == "passed"
                detail = (
                    ""
                    if ok
                    else f"blanked: {blanked.status} {blanked.detail}; solution: {solved.status} {solved.detail}"
                )
                outcomes.append(Outcome(exercise.name, "verified" if ok else "FAILED", detail.strip()))
                failures += not ok
        print(f"{folder.name}: {len(exercises)} exercises")
        print(_table(outcomes))
    print("verify: every exercise is checked by its tests" if not failures else f"verify: {failures} exercises FAILED")
    return 0 if not failures else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.exercises", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("make", help="copy a folder with its exercises blanked")
    make.add_argument("folder")
    make.add_argument("--out", default=None, help="default: exercises/NN_name")
    make.add_argument("--force", action="store_true", help="replace an existing exercises folder")
    make.set_defaults(func=cmd_make)
    check = commands.add_parser("check", help="run the exercises' tests against a copy")
    check.add_argument("directory", nargs="?", default=None)
    check.add_argument("--only", action="append", metavar="NAME")
    check.set_defaults(func=cmd_check)
    verify = commands.add_parser("verify", help="prove each exercise's tests fail when it is blanked")
    verify.add_argument("folders", nargs="*")
    verify.add_argument("--only", action="append", metavar="NAME")
    verify.set_defaults(func=cmd_verify)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ExerciseError, OSError) as error:
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
