"""Retries with backoff for transient errors (a source that hiccups, the warehouse held by another process).

Steps that read sources or open the warehouse carry ``TRANSIENT_RETRY``: Dagster re-runs a failed
step after 2 s, 6 s, then 14 s (Dagster's exponential backoff: 2 x (2^n - 1) s, ± 2 s of jitter),
each attempt visible in the UI. Errors that waiting cannot fix are raised as
``dg.Failure(allow_retries=False)`` and fail at once: a FAILED load (bad or missing file), an
unwritable or full warehouse, a table or column the warehouse does not have.
"""

from __future__ import annotations

import dagster as dg

TRANSIENT_RETRY = dg.RetryPolicy(
    max_retries=3, delay=2.0, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
