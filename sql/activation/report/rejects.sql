-- Data quality: rejected rows per data set and field, with one reason.
SELECT dataset, field, count(*) AS rejected_rows, any_value(reason) AS example
FROM rejects GROUP BY dataset, field ORDER BY rejected_rows DESC, dataset, field;
