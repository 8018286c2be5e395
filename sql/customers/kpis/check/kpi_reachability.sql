-- kpi_reachability reconciles with `customers`: at every grain, the customers added over all periods
-- and reachabilities, and the four totals of the last period, equal the customers not excluded.
-- Rows: (scope, measure, kpi_value, base_value); the check passes when every pair is equal.
WITH base AS (
    SELECT count(*) AS customers FROM customers
    WHERE customuid NOT IN (SELECT customer_id FROM customer_identities WHERE excluded)
), kpi AS (
    SELECT grain, sum(customers_added) AS added,
           sum(customers_total) FILTER (WHERE period_start = last_period) AS last_total
    FROM (SELECT *, max(period_start) OVER (PARTITION BY grain) AS last_period FROM kpi_reachability) AS k
    GROUP BY grain
), grains AS (
    SELECT * FROM (VALUES ('day'), ('week'), ('month')) g(grain)
)
SELECT g.grain AS scope, m.measure, CAST(m.kpi_value AS DECIMAL(38,4)) AS kpi_value,
       CAST(b.customers AS DECIMAL(38,4)) AS base_value
FROM grains g LEFT JOIN kpi k USING (grain) CROSS JOIN base b,
     LATERAL (VALUES ('customers_added, all periods and reachabilities', coalesce(k.added, 0)),
                     ('customers_total, last period, all reachabilities', coalesce(k.last_total, 0))) m(measure, kpi_value)
ORDER BY 1, 2;
