-- Whether an exclusion's value ($value) is not of its column's type: <typed> is it typed as ingestion
-- types the column (pipeline/ingest/typing.py), NULL when it is not one.
SELECT {{typed}} IS NULL AS untyped;
