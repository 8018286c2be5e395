-- kpi_purchases reconciles with `events`: at every grain, the orders and the revenue over all periods
-- and contexts equal the number of order events and the sum of their values.
-- Rows: (scope, measure, kpi_value, base_value); the check passes when every pair is equal. The sums:
-- {{order_values}} as in kpi_purchases.sql, {{money_total}} as in summary/kpi_purchases.sql (NULL on
-- both sides where the revenue is too large to hold exactly).
WITH base AS (
    SELECT count(*) AS orders, {{order_values}} AS revenue FROM _kpi_order_rows
), kpi AS (
    SELECT grain, sum(orders) AS orders, {{money_total}} AS revenue FROM kpi_purchases GROUP BY grain
), grains AS (
    SELECT * FROM (VALUES ('day'), ('week'), ('month')) g(grain)
)
SELECT g.grain AS scope, m.measure, CAST(m.kpi_value AS DECIMAL(38,18)) AS kpi_value,
       CAST(m.base_value AS DECIMAL(38,18)) AS base_value
FROM grains g LEFT JOIN kpi k USING (grain) CROSS JOIN base b,
     LATERAL (VALUES ('orders', CAST(coalesce(k.orders, 0) AS DECIMAL(38,18)), CAST(b.orders AS DECIMAL(38,18))),
                     ('revenue', CAST(CASE WHEN k.grain IS NULL THEN 0 ELSE k.revenue END AS DECIMAL(38,18)),
                      CAST(b.revenue AS DECIMAL(38,18))))
         m(measure, kpi_value, base_value)
ORDER BY 1, 2;
