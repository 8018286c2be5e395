-- kpi_customers reconciles with `customers`: at every grain, the customers added over all periods
-- and the total of the last period both equal the customers that are not excluded.
-- Rows: (scope, measure, kpi_value, base_value); the check passes when every pair is equal.
WITH base AS (
    SELECT count(*) AS customers FROM customers
    WHERE customuid NOT IN (SELECT customer_id FROM customer_identities WHERE excluded)
), kpi AS (
    SELECT grain, sum(customers_added) AS added, arg_max(customers_total, period_start) AS last_total
    FROM kpi_customers GROUP BY grain
), grains AS (
    SELECT * FROM (VALUES ('day'), ('week'), ('month')) g(grain)
)
SELECT g.grain AS scope, m.measure, CAST(m.kpi_value AS DECIMAL(38,4)) AS kpi_value,
       CAST(b.customers AS DECIMAL(38,4)) AS base_value
FROM grains g LEFT JOIN kpi k USING (grain) CROSS JOIN base b,
     LATERAL (VALUES ('customers_added, all periods', coalesce(k.added, 0)),
                     ('customers_total, last period', coalesce(k.last_total, 0))) m(measure, kpi_value)
ORDER BY 1, 2;
