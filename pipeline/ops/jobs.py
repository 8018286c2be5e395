"""Jobs: the nightly job materializes the whole graph for one day (or a range, as one run)."""

from __future__ import annotations

import dagster as dg

from pipeline.activation.config import OWN_SCHEDULE, SCHEDULE_TAG
from pipeline.core.retries import TRANSIENT_RETRY

NIGHTLY = "nightly"


def build_nightly_job(partitions: dg.PartitionsDefinition) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        NIGHTLY,
        # an export with a schedule of its own runs on that schedule only
        selection=dg.AssetSelection.all() - dg.AssetSelection.tag(SCHEDULE_TAG, OWN_SCHEDULE),
        partitions_def=partitions,
        op_retry_policy=TRANSIENT_RETRY,
        description="Every asset for one daily partition (yesterday, when run by the nightly schedule).",
    )
