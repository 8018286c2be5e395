-- The currencies the orders' values are in (revenue adds the values as they are: more than one is a warning).
SELECT coalesce(list(DISTINCT currency ORDER BY currency), []) AS currencies
FROM _kpi_order_rows WHERE currency IS NOT NULL;
