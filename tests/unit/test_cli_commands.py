"""`nightjar model | explain | export` refusing what they cannot do: one line, exit 1, nothing written."""

from __future__ import annotations

import pytest

from pipeline.cli import main
from tests.conftest import EXAMPLE


@pytest.mark.parametrize("command", [["promote", "purchase_30d", "2026-01-01"], ["rollback", "purchase_30d"]])
def test_model_promote_or_rollback_on_a_missing_warehouse_creates_none(tmp_path, capsys, command):
    warehouse = tmp_path / "misspelt" / "warehouse.duckdb"
    assert main(["model", *command, "--config", str(EXAMPLE), "--warehouse", str(warehouse)]) == 1
    assert capsys.readouterr().err == f"the warehouse {warehouse} does not exist: run the pipeline first\n"
    assert not warehouse.parent.exists()


def test_explain_plot_into_a_missing_folder_is_one_line_before_any_work(tmp_path, capsys):
    plot = tmp_path / "nowhere" / "age.png"
    args = ["explain", "--model", "purchase_30d", "--dependence", "num_age", "--plot", str(plot)]
    assert main([*args, "--config", str(EXAMPLE), "--warehouse", str(tmp_path / "w.duckdb")]) == 1
    assert capsys.readouterr().err == f"cannot write the plot {plot}: {plot.parent} is not a folder\n"


def test_demo_out_onto_a_file_is_one_line_and_leaves_the_file(tmp_path, capsys):
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    assert main(["demo", "--customers", "5", "--days", "2", "--out", str(taken)]) == 1
    assert capsys.readouterr().err == f"--out {taken}: cannot create the demo folder there (File exists)\n"
    assert taken.read_text() == "mine"


def test_explain_refuses_a_negative_top(tmp_path, capsys):
    args = ["explain", "--model", "purchase_30d", "--customer", "C000001", "--top", "-3"]
    assert main([*args, "--config", str(EXAMPLE), "--warehouse", str(tmp_path / "w.duckdb")]) == 2
    assert capsys.readouterr().err == "--top must be 0 or more\n"


@pytest.mark.parametrize("command", ["rollback", "versions"])
def test_model_commands_other_than_promote_refuse_a_version_rather_than_ignore_it(tmp_path, capsys, command):
    args = ["model", command, "purchase_30d", "2026-01-01", "--config", str(EXAMPLE)]
    assert main([*args, "--warehouse", str(tmp_path / "w.duckdb")]) == 2
    assert capsys.readouterr().err == f"model {command} takes no VERSION (promote NAME VERSION does)\n"


@pytest.mark.parametrize("option", [["--plot", "age.png"], ["--secondary", "num_age"]])
def test_explain_of_a_customer_refuses_the_dependence_options_rather_than_ignore_them(
    tmp_path, capsys, option
):
    args = ["explain", "--model", "purchase_30d", "--customer", "C000001", *option, "--config", str(EXAMPLE)]
    assert main([*args, "--warehouse", str(tmp_path / "w.duckdb")]) == 2
    assert capsys.readouterr().err == "--secondary and --plot go with --dependence, not --customer\n"


def test_output_into_a_pipe_closed_early_ends_quietly_without_a_traceback():
    # `nightjar attribution models | head -1`: the reader goes away before the command has written; it
    # was a BrokenPipeError traceback (or Python's "Exception ignored ... BrokenPipeError" at exit)
    import subprocess
    import sys

    command = [sys.executable, "-m", "pipeline.cli", "attribution", "models", "--config", str(EXAMPLE)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the interpreter has even started: every write meets a closed pipe
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert err == ""
