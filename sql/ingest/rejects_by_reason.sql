-- Rejected rows of some loads of a dataset, by the field at fault, with an example reason whose
-- quoted value is shown as '…': the example goes into Dagster's run metadata, which forget cannot
-- reach, and the value may be a customer's identifier (the rows themselves are in `rejects`).
SELECT
    field,
    count(*) AS "rows",
    regexp_replace(any_value(reason), '''.*''', '''…''') AS example
FROM rejects
WHERE dataset = $ds AND list_contains($ids, load_id)
GROUP BY field ORDER BY "rows" DESC;
