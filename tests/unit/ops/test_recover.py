"""Which dead-looking runs the automatic recovery may take: only runs of this machine."""

from __future__ import annotations

import socket

import dagster as dg

from pipeline.ops.recover import HOST_TAG, of_this_machine


def test_a_run_tagged_with_another_host_is_never_this_machines_and_an_untagged_one_is_with_sqlite():
    here = dg.DagsterRun(job_name="nightly", tags={HOST_TAG: socket.gethostname()})
    elsewhere = dg.DagsterRun(job_name="nightly", tags={HOST_TAG: "another-machine"})
    untagged = dg.DagsterRun(job_name="nightly")
    with dg.instance_for_test() as sqlite:  # SQLite files under a temporary DAGSTER_HOME
        assert of_this_machine(sqlite, here)
        assert not of_this_machine(sqlite, elsewhere)
        assert of_this_machine(sqlite, untagged)  # local storage: every run of it ran here
