-- Every rejected row in the warehouse, by dataset and field, with an example reason.
SELECT dataset, field, count(*) AS "rows", any_value(reason) AS example FROM rejects
GROUP BY ALL ORDER BY dataset, "rows" DESC;
