-- Rejected rows of some loads of a dataset, by the field at fault, with an example reason.
SELECT field, count(*) AS "rows", any_value(reason) AS example FROM rejects
WHERE dataset = $ds AND list_contains($ids, load_id)
GROUP BY field ORDER BY "rows" DESC;
