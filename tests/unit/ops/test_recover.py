"""Which dead-looking runs the automatic recovery may take: only runs of this machine."""

from __future__ import annotations

import socket

import dagster as dg

from pipeline.core.warehouse import POOL
from pipeline.ops.recover import HOST_TAG, of_this_machine, wake_stranded


def test_a_run_tagged_with_another_host_is_never_this_machines_and_an_untagged_one_is_with_sqlite():
    here = dg.DagsterRun(job_name="nightly", tags={HOST_TAG: socket.gethostname()})
    elsewhere = dg.DagsterRun(job_name="nightly", tags={HOST_TAG: "another-machine"})
    untagged = dg.DagsterRun(job_name="nightly")
    with dg.instance_for_test() as sqlite:  # SQLite files under a temporary DAGSTER_HOME
        assert of_this_machine(sqlite, here)
        assert not of_this_machine(sqlite, elsewhere)
        assert of_this_machine(sqlite, untagged)  # local storage: every run of it ran here


def test_a_step_that_began_waiting_as_another_run_freed_the_slot_is_woken():
    with dg.instance_for_test() as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots(POOL, 1)
        assert storage.claim_concurrency_slot(POOL, "run-a", "step").is_claimed
        # run b found no free slot (a held it), then a freed it before b queued: nobody gives it to b
        storage.free_concurrency_slot_for_step("run-a", "step")
        storage.add_pending_step(POOL, "run-b", "step", should_assign=False)
        assert not storage.claim_concurrency_slot(POOL, "run-b", "step").is_claimed  # stranded
        wake_stranded(instance)
        assert storage.claim_concurrency_slot(POOL, "run-b", "step").is_claimed


def test_a_waiting_step_is_not_given_the_slot_another_step_holds():
    with dg.instance_for_test() as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots(POOL, 1)
        assert storage.claim_concurrency_slot(POOL, "run-a", "step").is_claimed
        assert not storage.claim_concurrency_slot(POOL, "run-b", "step").is_claimed
        wake_stranded(instance)
        assert not storage.check_concurrency_claim(POOL, "run-b", "step").is_assigned
        storage.free_concurrency_slot_for_step("run-a", "step")  # Dagster's own wake-up
        assert storage.claim_concurrency_slot(POOL, "run-b", "step").is_claimed
