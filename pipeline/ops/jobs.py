"""Jobs: the nightly job materializes the whole graph for one day (or a range, as one run)."""

from __future__ import annotations

import dagster as dg

from pipeline.core.retries import TRANSIENT_RETRY

NIGHTLY = "nightly"


def build_nightly_job(partitions: dg.PartitionsDefinition) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        NIGHTLY,
        selection=dg.AssetSelection.all(),
        partitions_def=partitions,
        op_retry_policy=TRANSIENT_RETRY,
        description="Every asset for one daily partition (yesterday, when run by the nightly schedule).",
    )
