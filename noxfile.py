"""Sessions for the whole monorepo.

    nox                              every suite: `shared` and one session per project folder
    nox -s 03_lecun1989              one project's test suite
    nox -s demo -- 03_lecun1989 ...  that project's main job: python -m lecun1989 ...
    nox -s repro -- 03_lecun1989 ... python -m lecun1989 repro ... (README results table)
    nox -s parity                    tests marked `parity`, against the oracle libraries
    nox -s lint                      ruff check + ruff format --check
    nox -s exercises -- make NN_name  a copy with the folder's exercises blanked (also: check DIR, verify)
    nox -s data                      where each data set was found (or downloads it), which tests skip

A project folder is any `NN_name/` with a `pyproject.toml`; its import package is `name`.
Each project session gets its own virtualenv holding only `shared` and that project; `demo`
and `repro` share one virtualenv into which they install the project named.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = False

ROOT = Path(__file__).parent
PROJECTS = sorted(
    path.name for path in ROOT.iterdir() if re.fullmatch(r"\d\d_\w+", path.name) and (path / "pyproject.toml").is_file()
)
nox.options.sessions = ["shared", *PROJECTS, "skips"]

# Oracle libraries for `parity`, per project (only what that project's parity tests import).
ORACLES = {
    "01_micrograd": ["torch"],
    "02_mlp": ["torch"],
    "03_lecun1989": ["torch"],
    "04_makemore": ["torch"],
    "05_adam": ["torch"],
    "06_bpe": ["tiktoken", "subword-nmt"],
    "07_transformer": ["torch", "sacrebleu"],
    "08_gpt2": ["torch", "transformers", "safetensors", "tiktoken"],
}
TORCH_VERSION = "2.13.0"
SKIP_REPORT = ROOT / ".nox" / "_data_skips"  # each suite writes its count of data skips here
ENV = {"MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1", "DNN_SKIP_REPORT": str(SKIP_REPORT)}


def package_name(folder: str) -> str:
    """'03_lecun1989' -> 'lecun1989'."""
    return folder.split("_", 1)[1]


# Optional extras a project's own test session installs, so CI runs those tests too
# (08_gpt2's data-parallel tests start `mpiexec` from the `mpich` wheel).
EXTRAS = {"08_gpt2": "mpi"}


def install(session: nox.Session, *folders: str) -> None:
    session.install("-e", "shared", *(arg for folder in folders for arg in ("-e", folder)))


def install_with_extras(session: nox.Session, folder: str) -> None:
    extra = EXTRAS.get(folder)
    session.install("-e", "shared", "-e", f"{folder}[{extra}]" if extra else folder)


def project_from_posargs(session: nox.Session) -> tuple[str, list[str]]:
    if not session.posargs or session.posargs[0].rstrip("/") not in PROJECTS:
        session.error(f"name a project folder first, one of: {', '.join(PROJECTS)}")
    return session.posargs[0].rstrip("/"), list(session.posargs[1:])


def install_torch(session: nox.Session) -> None:
    """PyTorch, always the CPU build: never the multi-GB CUDA one.

    Where PIP_FIND_LINKS names a folder of wheels (this project's machines have the CPU
    wheel there), pin the `+cpu` local version so only that wheel can match (uv ignores
    pip's settings, so the folder is passed explicitly). Elsewhere, use PyTorch's CPU index.
    """
    find_links = [link for link in os.environ.get("PIP_FIND_LINKS", "").split() if link]
    if find_links:
        args = [arg for link in find_links for arg in ("--find-links", link)]
        session.install(f"torch=={TORCH_VERSION}+cpu", *args)
    else:
        session.install(f"torch=={TORCH_VERSION}", "--index-url", "https://download.pytorch.org/whl/cpu")


@nox.session
def shared(session: nox.Session) -> None:
    """The shared utilities package's tests (first in `nox`: it also clears the data-skip counts)."""
    shutil.rmtree(SKIP_REPORT, ignore_errors=True)
    install(session)
    session.install("pytest")
    session.run("pytest", "shared/tests", *session.posargs, env=ENV)


def make_project_session(folder: str) -> None:
    def tests(session: nox.Session) -> None:
        install_with_extras(session, folder)
        session.install("pytest")
        session.chdir(folder)
        session.run("pytest", *session.posargs, env=ENV)

    tests.__doc__ = f"{folder}'s test suite (parity tests skip without their oracle)."
    nox.session(name=folder)(tests)


for _folder in PROJECTS:
    make_project_session(_folder)


@nox.session(python=False)
def skips(session: nox.Session) -> None:
    """One line: how many tests the suites just run skipped for missing data (run last by `nox`)."""
    counts = {path.stem: int(path.read_text() or 0) for path in sorted(SKIP_REPORT.glob("*.txt"))}
    total = sum(counts.values())
    where = ", ".join(f"{name} {count}" for name, count in counts.items() if count)
    if total:
        session.log(f"{total} tests skipped for missing data ({where}); `nox -s data` says which files")
    else:
        session.log("0 tests skipped for missing data")


@nox.session
def data(session: nox.Session) -> None:
    """Where each data set was found, or download it with its checksum; which tests skip without it."""
    install(session)
    session.run("python", "-m", "shared.data", *session.posargs, env=ENV)


@nox.session
def exercises(session: nox.Session) -> None:
    """Exercises: nox -s exercises -- make NN_name | check [DIR] | verify [NN_name ...] (see shared/exercises.py)."""
    args = list(session.posargs) or ["verify"]
    if args[0] in PROJECTS:  # `nox -s exercises -- 01_micrograd` means make
        args = ["make", *args]
    named = [arg.rstrip("/") for arg in args[1:] if arg.rstrip("/") in PROJECTS]
    folders = named or [folder for folder in PROJECTS if (ROOT / folder / "exercises.json").is_file()]
    install(session, *folders)
    session.install("pytest")
    session.run("python", "-m", "shared.exercises", *args, env=ENV)


@nox.session
def demo(session: nox.Session) -> None:
    """A project's main job: nox -s demo -- NN_name [args]."""
    folder, args = project_from_posargs(session)
    install(session, folder)
    session.run("python", "-m", package_name(folder), *args, env=ENV)


@nox.session
def repro(session: nox.Session) -> None:
    """Rerun a project's README results table: nox -s repro -- NN_name [--only X] [--out DIR]."""
    folder, args = project_from_posargs(session)
    install(session, folder)
    session.run("python", "-m", package_name(folder), "repro", *args, env=ENV)


@nox.session
def parity(session: nox.Session) -> None:
    """Tests marked `parity` against the oracle libraries; a missing oracle fails here.

    nox -s parity [-- NN_name ...] limits it to some project folders.
    """
    folders = [arg.rstrip("/") for arg in session.posargs] or PROJECTS
    unknown = sorted(set(folders) - set(PROJECTS))
    if unknown:
        session.error(f"unknown project folders {unknown}; known: {', '.join(PROJECTS)}")
    oracles = sorted({name for folder in folders for name in ORACLES.get(folder, [])})
    if "torch" in oracles:
        install_torch(session)  # first, so nothing else can pull a CUDA build
        oracles.remove("torch")
    install(session, *folders)
    session.install("pytest", *oracles)
    env = {**ENV, "DNN_REQUIRE_ORACLES": "1"}
    for folder in folders:
        with session.chdir(folder):
            # exit code 5 = no parity tests collected in this folder: not a failure
            session.run("pytest", "-m", "parity", "-q", env=env, success_codes=[0, 5])


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole repo."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
