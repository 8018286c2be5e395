"""A training's row in model_trainings: a version left QUEUED or RUNNING by a process that stopped
mid-training (killed) is FAILED, with the reason, when the model's next training starts; a trained
version's row is never replaced."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from pipeline.models import training
from pipeline.models.config import ModelSpec
from pipeline.models.features import TrainingWindow

SPEC = ModelSpec(name="m", type="response", label={"rules": [{"transaction": "pos"}]})
OTHER = ModelSpec(name="other", type="response", label={"rules": [{"transaction": "pos"}]})
DAY = dt.date(2026, 2, 1)


def rows(con):
    return con.execute(
        "SELECT model, version, status, error FROM model_trainings ORDER BY model, version"
    ).fetchall()


def test_a_training_left_running_by_a_killed_process_is_failed_when_the_next_one_starts():
    with duckdb.connect() as con:
        training.mark(con, SPEC, DAY, training.RUNNING)  # then the process was killed
        training.mark(con, OTHER, DAY, training.RUNNING)  # another model's: its own next training's
        training.mark(con, SPEC, DAY + dt.timedelta(days=1), training.QUEUED)
        interrupted = "interrupted: the process stopped before this training ended"
        assert rows(con) == [
            ("m", DAY, "FAILED", interrupted),
            ("m", DAY + dt.timedelta(days=1), "QUEUED", None),
            ("other", DAY, "RUNNING", None),
        ]
        training.mark(con, SPEC, DAY + dt.timedelta(days=1), training.RUNNING)  # its own row: restarted
        assert rows(con)[:2] == [
            ("m", DAY, "FAILED", interrupted),
            ("m", DAY + dt.timedelta(days=1), "RUNNING", None),
        ]
        training.mark(con, SPEC, DAY, training.QUEUED)  # the killed version trained again
        assert rows(con)[:2] == [
            ("m", DAY, "QUEUED", None),
            ("m", DAY + dt.timedelta(days=1), "FAILED", interrupted),
        ]


@pytest.mark.parametrize("status", ["FINISHED", "REJECTED", "RETIRED"])
def test_a_trained_versions_row_survives_a_mark_and_a_failure_and_record_refuses_it(tmp_path, status):
    """A version whose training ended (FINISHED, REJECTED, RETIRED) is never replaced: marking it again
    and failing leave its row as it was, and recording a new training of it writes nothing."""
    with duckdb.connect() as con:
        training.mark(con, SPEC, DAY, training.RUNNING)
        con.execute("UPDATE model_trainings SET status = $s, metrics = '{}'", {"s": status})
        training.mark(con, SPEC, DAY, training.QUEUED)
        training.fail(con, SPEC, DAY, "TrainingError: planted")
        assert rows(con) == [("m", DAY, status, None)]
        window = TrainingWindow(DAY, DAY, DAY, DAY, False)
        trained = training.Trained(window, None, [], {}, {}, 0, 0, *[pd.DataFrame()] * 3)
        with pytest.raises(training.VersionTrained, match=f"version {DAY} is already trained \\({status}\\)"):
            training.record(con, SPEC, trained, tmp_path)
        assert not (tmp_path / "m").exists()
