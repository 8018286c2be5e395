-- kpi_purchases reconciles with `events`: at every grain, the orders and the revenue over the
-- periods from the one holding $since on (the periods the update wrote; every period after a whole
-- rebuild) equal the number of order events of those days and the sum of their values.
-- Rows: (scope, measure, kpi_value, base_value); the check passes when every pair is equal.
WITH grains AS (
    SELECT grain, CAST(date_trunc(grain, $since) AS DATE) AS first_period
    FROM (VALUES ('day'), ('week'), ('month')) AS g (grain)
), daily AS (
    SELECT day, count(*) AS orders, coalesce(sum(value), 0) AS revenue
    FROM _kpi_order_rows
    WHERE day >= (SELECT min(first_period) FROM grains)
    GROUP BY day
), base AS (
    SELECT g.grain, coalesce(sum(d.orders), 0) AS orders, coalesce(sum(d.revenue), 0) AS revenue
    FROM grains AS g LEFT JOIN daily AS d ON d.day >= g.first_period
    GROUP BY g.grain
), kpi AS (
    SELECT k.grain, sum(k.orders) AS orders, sum(k.revenue) AS revenue
    FROM kpi_purchases AS k JOIN grains AS g ON k.grain = g.grain AND k.period_start >= g.first_period
    GROUP BY k.grain
)
SELECT b.grain AS scope, m.measure, CAST(m.kpi_value AS DECIMAL(38,18)) AS kpi_value,
       CAST(m.base_value AS DECIMAL(38,18)) AS base_value
FROM base AS b LEFT JOIN kpi AS k USING (grain),
     LATERAL (VALUES ('orders', CAST(coalesce(k.orders, 0) AS DECIMAL(38,18)), CAST(b.orders AS DECIMAL(38,18))),
                     ('revenue', CAST(coalesce(k.revenue, 0) AS DECIMAL(38,18)), CAST(b.revenue AS DECIMAL(38,18))))
         m(measure, kpi_value, base_value)
ORDER BY 1, 2;
