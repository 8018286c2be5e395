"""`nightjar model | explain | export | demo | report | serve` refusing what they cannot do: one line, exit 1
or 2, nothing written."""

from __future__ import annotations

import pytest

from pipeline.cli import main
from tests.conftest import EXAMPLE


def _published(tmp_path):
    """A warehouse (the empty schema) with a published snapshot: the report has something to read."""
    import datetime as dt

    import duckdb

    from pipeline.activation.publish import publish
    from pipeline.core.sql import sql

    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(sql("core/schema"))
        publish(con, warehouse, dt.datetime(2026, 1, 8, 3, tzinfo=dt.UTC))
    return warehouse


@pytest.mark.parametrize("under", [False, True])
def test_report_out_onto_a_file_is_one_line_exit_1_and_leaves_the_file(tmp_path, capsys, under):
    # it printed the raw "[Errno 17] File exists: ..." ("[Errno 20] Not a directory" under a file)
    warehouse = _published(tmp_path)
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    out = taken / "report" if under else taken
    assert main(["report", "--out", str(out), "--config", str(EXAMPLE), "--warehouse", str(warehouse)]) == 1
    where = f": {taken}" if under else ""
    assert capsys.readouterr().err == f"--out {out}{where} is a file, not a folder: give a folder\n"
    assert taken.read_text() == "mine"
    assert (
        main(
            ["report", "--out", str(tmp_path / "r"), "--config", str(EXAMPLE), "--warehouse", str(warehouse)]
        )
        == 0
    )
    assert (tmp_path / "r" / "index.html").is_file()


def test_serve_reports_onto_a_file_is_one_line_exit_1_before_serving(tmp_path, capsys, monkeypatch):
    # create_app's mkdir raised FileExistsError: a traceback
    monkeypatch.setenv("NIGHTJAR_API_KEYS", "k")
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    args = ["serve", "--port", "1", "--reports", str(taken), "--config", str(EXAMPLE)]
    assert main([*args, "--warehouse", str(tmp_path / "w.duckdb")]) == 1
    assert capsys.readouterr().err == f"--reports {taken} is a file, not a folder: give a folder\n"
    assert taken.read_text() == "mine"


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
    assert capsys.readouterr().err == f"--out {taken} is a file, not a folder: give a folder\n"
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


def test_export_to_a_file_under_a_file_is_one_line_exit_1(tmp_path, capsys):
    # it printed the raw "[Errno 17] File exists: '.../notes.txt'"
    import datetime as dt

    from pipeline.core.sql import sql
    from pipeline.core.warehouse import connect
    from tests.conftest import make_config

    config = make_config(tmp_path)
    with connect(config.warehouse_path) as con:
        con.execute(sql("experiments/create_results"))
        con.execute(
            "INSERT INTO results (date, customer_id, experiment, variant, is_control, score, reason) "
            "VALUES ($day, 'C1', 'offer', 'control', true, 0.5, 'r')",
            {"day": dt.date(2026, 1, 9)},
        )
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    to = taken / "out.csv"
    args = ["export", "results", "--date", "2026-01-09", "--to", str(to), "--config", str(EXAMPLE)]
    assert main([*args, "--warehouse", str(config.warehouse_path)]) == 1
    assert capsys.readouterr().err == f"cannot write {to}: {taken} is a file, not a folder\n"
    assert taken.read_text() == "mine"


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


@pytest.mark.parametrize(
    ("what", "day", "said"),
    [  # the example's start date is 2026-01-01: its night decides 2026-01-02, none decides the start date
        ("results", "2026-01-01", "no partition writes it, the first day of results is 2026-01-02 "
         "(decided on the night of 2026-01-01)"),
        ("results", "2026-01-05", "materialize the partition of the night before, 2026-01-04, first"),
        ("predictions", "2025-12-31", "no partition writes it, the first day of predictions is 2026-01-01"),
    ],
)  # fmt: skip
def test_export_of_a_day_without_rows_says_which_partition_writes_it(tmp_path, capsys, what, day, said):
    # `export results --date <start date>` said "materialize the partition of the night before,
    # 2025-12-31, first": a day before the first partition, which no run can materialize
    from pipeline.core.sql import sql
    from pipeline.core.warehouse import connect
    from tests.conftest import make_config

    config = make_config(tmp_path)
    with connect(config.warehouse_path) as con:
        con.execute(sql("experiments/create_results"))
        columns = "date DATE, customer_id VARCHAR, model VARCHAR, version DATE, score DOUBLE"
        con.execute(f"CREATE TABLE predictions ({columns})")
    args = ["export", what, "--date", day, "--to", str(tmp_path / "out.csv"), "--config", str(EXAMPLE)]
    assert main([*args, "--warehouse", str(config.warehouse_path)]) == 1
    assert capsys.readouterr().err == f"no {what} for {day}: {said}\n"
