"""shared.cli: the command shape, the common options, the one error path, output folders."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap

import pytest

from shared.cli import (
    App,
    CLIError,
    bounded_float,
    bounded_int,
    finite_float,
    positive_float,
    positive_int,
    prepare_out,
    probability,
)


def make_app(calls):
    app = App("demo", "00_demo", "A demo program.", default="train")

    def train(args):
        calls.append(("train", args))

    def fail(args):
        raise ValueError("the value was bad\non two lines")

    def boom(args):
        raise CLIError("nothing here")

    parser = app.command("train", train, help="train it")
    parser.add_argument("--steps", type=positive_int, default=3)
    app.command("repro", train, help="rerun the table", only=["a", "b"], seeds=True)
    app.command("fail", fail, help="fails")
    app.command("boom", boom, help="fails too")
    return app


def test_no_command_runs_the_default_command_with_its_options():
    calls = []
    assert make_app(calls).main(["--steps", "5"]) == 0
    name, args = calls[0]
    assert (name, args.command, args.steps, args.seed, args.threads, args.force) == ("train", "train", 5, 0, 1, False)


def test_every_command_has_the_common_options(capsys):
    app = make_app([])
    for command in ("train", "repro", "fail"):
        with pytest.raises(SystemExit):
            app.parse([command, "--help"])
        text = capsys.readouterr().out
        for option in ("--out", "--seed", "--threads", "--force"):
            assert option in text


def test_top_level_help_lists_commands_and_common_options(capsys):
    with pytest.raises(SystemExit):
        make_app([]).parse(["--help"])
    text = capsys.readouterr().out
    for word in ("train", "repro", "--out", "--seed", "--threads", "--force"):
        assert word in text


def test_repro_only_is_repeatable_and_seeds_take_a_list():
    calls = []
    make_app(calls).main(["repro", "--only", "a", "--only", "b", "--seeds", "1", "2"])
    args = calls[0][1]
    assert args.only == ["a", "b"] and args.seeds == [1, 2]


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--steps", "0"],
        ["train", "--steps", "nan"],
        ["train", "--threads", "0"],
        ["train", "--seed", "-1"],
        ["repro", "--only", "c"],
        ["train", "--nope"],
    ],
)
def test_usage_mistakes_are_one_error_line_and_exit_2(argv, capsys):
    assert make_app([]).main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err


def test_expected_failures_are_one_error_line_and_exit_2(capsys):
    app = make_app([])
    assert app.main(["fail"]) == 2
    assert capsys.readouterr().err == "error: the value was bad on two lines\n"
    assert app.main(["boom"]) == 2
    assert capsys.readouterr().err == "error: nothing here\n"


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "abc"])
def test_float_types_refuse_nan_infinity_and_words(text):
    for kind in (finite_float, positive_float, probability):
        with pytest.raises(argparse.ArgumentTypeError):
            kind(text)


def test_number_types_check_their_ranges():
    assert positive_float("0.5") == 0.5 and probability("0") == 0.0
    with pytest.raises(argparse.ArgumentTypeError):
        positive_float("0")
    with pytest.raises(argparse.ArgumentTypeError):
        probability("1")
    with pytest.raises(argparse.ArgumentTypeError):
        bounded_int(1, 10)("11")
    with pytest.raises(argparse.ArgumentTypeError):
        positive_int("1.5")
    assert bounded_float(0, 1)("1") == 1.0
    for text in ("1.01", "-0.1", "nan"):
        with pytest.raises(argparse.ArgumentTypeError):
            bounded_float(0, 1)(text)


def namespace(out, force=False):
    return argparse.Namespace(out=out, force=force, folder="00_demo", command="train")


def test_prepare_out_defaults_to_runs_folder_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = prepare_out(namespace(None))
    assert path == tmp_path.joinpath("runs", "00_demo", "train").relative_to(tmp_path) and path.is_dir()


def test_prepare_out_refuses_a_file_and_a_used_folder_without_force(tmp_path):
    file = tmp_path / "a_file"
    file.write_text("mine")
    with pytest.raises(CLIError, match="is a file"):
        prepare_out(namespace(file))
    used = tmp_path / "used"
    used.mkdir()
    (used / "results.json").write_text("{}")
    with pytest.raises(CLIError, match="--force"):
        prepare_out(namespace(used))
    assert prepare_out(namespace(used, force=True)) == used
    assert prepare_out(namespace(used), resumable=True) == used
    assert file.read_text() == "mine"


def test_threads_flag_overrides_the_environment(tmp_path):
    """--threads 2 wins over OPENBLAS_NUM_THREADS=1 set before Python started, and the default is 1."""
    script = tmp_path / "prog.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            import numpy
            from shared.cli import App
            from shared.threads import blas_threads

            app = App("prog", "00_prog", None, default="run")
            app.command("run", lambda args: print(blas_threads()), help="print threads")
            sys.exit(app.main())
            """
        )
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    two = subprocess.run([sys.executable, str(script), "--threads", "2"], env=env, capture_output=True, text=True)
    env["OPENBLAS_NUM_THREADS"] = "2"
    one = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True)
    assert (two.returncode, one.returncode) == (0, 0), two.stderr + one.stderr
    assert one.stdout.strip() == "1"
    assert two.stdout.strip() in ("2", "None")  # None only where the BLAS hides its pool size


def test_main_restores_the_sigterm_handler_it_installed():
    import signal

    before = signal.getsignal(signal.SIGTERM)
    make_app([]).main(["train"])
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_failed_command_leaves_no_empty_output_folder(tmp_path):
    app = App("demo", "00_demo", None, default="run")

    def fails_after_prepare(args):
        prepare_out(args)
        raise ValueError("bad data")

    app.command("run", fails_after_prepare, help="fails")
    assert app.main(["--out", str(tmp_path / "new")]) == 2
    assert not (tmp_path / "new").exists()
    (tmp_path / "kept").mkdir()
    assert app.main(["--out", str(tmp_path / "kept")]) == 2
    assert (tmp_path / "kept").is_dir()  # it was there before: not ours to remove


def test_an_unknown_command_is_an_error_even_with_help(capsys):
    assert make_app([]).main(["figures", "--help"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_only_names_each_row_once():
    calls = []
    make_app(calls).main(["repro", "--only", "b", "--only", "a", "--only", "b"])
    assert calls[0][1].only == ["b", "a"]
