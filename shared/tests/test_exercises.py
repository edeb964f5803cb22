"""shared.exercises: marker parsing, the blanked copy, the check report, and verify's mutation test."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from shared import exercises
from shared.exercises import ExerciseError, blank, parse_markers

SOURCE = textwrap.dedent(
    '''
    def square(x):
        """x squared."""
        # exercise: square: return x times x (README "Squares")
        return x * x
        # end exercise


    def double(x):
        # exercise: double: return two x
        y = x + x
        return y
        # end exercise
    '''
)

TESTS = textwrap.dedent(
    """
    from toy import double, square


    def test_square():
        assert square(3) == 9


    def test_double():
        assert double(4) == 8


    def test_nothing_much():
        assert True
    """
)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository root with shared/ (a copy of this one) and a toy project 99_toy with two exercises."""
    here = Path(exercises.__file__).resolve().parents[1]
    shutil.copytree(here / "shared", tmp_path / "shared" / "shared", ignore=shutil.ignore_patterns("__pycache__"))
    project = tmp_path / "99_toy"
    (project / "toy").mkdir(parents=True)
    (project / "tests").mkdir()
    (project / "toy" / "__init__.py").write_text(SOURCE)
    (project / "tests" / "test_toy.py").write_text(TESTS)
    plan = {
        "exercises": [
            {"name": "square", "read": "README.md#squares", "tests": ["tests/test_toy.py::test_square"]},
            {"name": "double", "tests": ["tests/test_toy.py", "-k", "double"]},
        ]
    }
    (project / "exercises.json").write_text(json.dumps(plan))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_markers_are_found_with_name_task_and_lines():
    found = parse_markers(SOURCE, Path("toy/__init__.py"))
    assert [(e.name, e.task, e.line) for e in found] == [
        ("square", 'return x times x (README "Squares")', 4),
        ("double", "return two x", 10),
    ]


def test_blank_replaces_the_solution_and_keeps_the_markers():
    found = parse_markers(SOURCE, Path("toy.py"))
    text = blank(SOURCE, found)
    assert "return x * x" not in text and "y = x + x" not in text
    assert text.count("raise NotImplementedError(") == 2
    assert text.count("# exercise:") == 2 and text.count("# end exercise") == 2
    compile(text, "toy.py", "exec")
    assert parse_markers(text, Path("toy.py"))[0].name == "square"  # a blanked copy can be parsed again


@pytest.mark.parametrize(
    "source, message",
    [
        ("def f():\n    # exercise: a: x\n    # exercise: b: y\n    pass\n    # end exercise\n", "nested"),
        ("def f():\n    pass\n    # end exercise\n", "without an open"),
        ("def f():\n    # exercise: a: x\n    pass\n", "never closed"),
        ("def f():\n    # exercise: a: x\n    pass\n# end exercise\n", "not indented"),
        ("def f():\n    # exercise: a: x\n    # end exercise\n", "encloses no code"),
        ("def f():\n    # exercise: Bad Name: x\n    pass\n    # end exercise\n", "malformed"),
    ],
)
def test_bad_markers_are_clear_errors(source, message):
    with pytest.raises(ExerciseError, match=message):
        parse_markers(source, Path("f.py"))


def test_a_name_marked_twice_or_not_listed_is_an_error(repo):
    source = repo / "99_toy" / "toy" / "__init__.py"
    source.write_text(SOURCE + "\n\ndef again(x):\n    # exercise: square: again\n    return x\n    # end exercise\n")
    with pytest.raises(ExerciseError, match="marked twice"):
        exercises.load_plan(repo / "99_toy")
    source.write_text(SOURCE + "\n\ndef extra(x):\n    # exercise: extra: more\n    return x\n    # end exercise\n")
    with pytest.raises(ExerciseError, match="not listed: extra"):
        exercises.load_plan(repo / "99_toy")


def test_make_then_check_reports_not_started_and_passes_once_solved(repo, capsys):
    assert exercises.main(["make", "99_toy"]) == 0
    out = repo / "exercises" / "99_toy"
    assert (out / "EXERCISES.md").read_text().count("check: `python -m shared.exercises check") == 2
    assert exercises.main(["check", str(out)]) == 1
    report = capsys.readouterr().out
    assert "square" in report and report.count("not started") == 2 and "0 of 2 exercises pass" in report

    (out / "99_toy" / "toy" / "__init__.py").write_text(SOURCE.replace("return x * x", "return x + x"))
    assert exercises.main(["check", str(out)]) == 1
    report = capsys.readouterr().out
    assert "assert 6 == 9" in report and "1 of 2 exercises pass" in report

    shutil.copy(repo / "99_toy" / "toy" / "__init__.py", out / "99_toy" / "toy" / "__init__.py")
    assert exercises.main(["check", str(out), "--only", "double"]) == 0
    assert exercises.main(["check", str(out)]) == 0


def test_make_refuses_to_overwrite_a_learners_work_without_force(repo, capsys):
    assert exercises.main(["make", "99_toy"]) == 0
    assert exercises.main(["make", "99_toy"]) == 2
    assert "--force" in capsys.readouterr().err
    assert exercises.main(["make", "99_toy", "--force"]) == 0


def test_verify_passes_when_every_blank_is_checked_and_fails_when_one_is_not(repo, capsys):
    assert exercises.main(["verify", "99_toy"]) == 0
    plan = json.loads((repo / "99_toy" / "exercises.json").read_text())
    plan["exercises"][1]["tests"] = ["tests/test_toy.py::test_nothing_much"]  # checks nothing about double
    (repo / "99_toy" / "exercises.json").write_text(json.dumps(plan))
    assert exercises.main(["verify", "99_toy"]) == 1
    assert "FAILED" in capsys.readouterr().out
