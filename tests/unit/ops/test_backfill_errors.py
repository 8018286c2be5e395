"""What a failed backfill prints for each failed step: the root error's message, in the user's words."""

from __future__ import annotations

import dagster as dg
from dagster._utils.error import serializable_error_info_from_exc_info
from dagster_shared.error import SerializableErrorInfo

from pipeline.core.warehouse import WarehouseLocked
from pipeline.ops.backfill import root_message


def info_of(error: BaseException) -> SerializableErrorInfo:
    try:
        raise error
    except BaseException as e:
        return serializable_error_info_from_exc_info((type(e), e, e.__traceback__))


def test_a_failed_step_says_its_root_error_without_the_class_path_of_our_own_errors():
    # "FAILED tx_pos: pipeline.core.warehouse.WarehouseLocked: the warehouse ... is in use by ..." and
    # "FAILED tx_web_sessions: dagster._core.definitions.events.Failure: 2 of 2 loads ... failed"
    locked = info_of(WarehouseLocked("the warehouse w.duckdb is in use by process 42 (nightjar)"))
    wrapped = SerializableErrorInfo(
        "Error occurred while executing", [], "DagsterExecutionStepExecutionError", locked
    )
    assert root_message(wrapped) == "the warehouse w.duckdb is in use by process 42 (nightjar)"
    failure = info_of(dg.Failure(description="2 of 2 loads of tx_pos failed: 2026-01-01: no file"))
    assert root_message(failure) == "2 of 2 loads of tx_pos failed: 2026-01-01: no file"
    assert root_message(info_of(ValueError("b broke"))) == "ValueError: b broke"  # a bug's class stays
    assert root_message(None) == "(no error recorded)"
