-- The periods of kpi_purchases whose revenue is too large to hold exactly (NULL: 1e20 or more), as
-- "<grain> <period_start> <context>", in order.
SELECT grain || ' ' || period_start || ' ' || context AS period
FROM kpi_purchases WHERE revenue IS NULL
ORDER BY period_start, grain, context;
