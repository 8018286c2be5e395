-- kpi_customers: per period of each grain, the customers created in it (by the day of the first
-- customer file that held them, customers._first_seen_at) and the running total. Excluded
-- customers never count. Every period of the calendar has a row, zeros included.
-- An update recomputes the periods from the one holding $since on (all of them: a full rebuild).
INSERT INTO kpi_customers (grain, period_start, customers_added, customers_total)
WITH added AS (
    SELECT created_on AS day, count(*) AS customers FROM _kpi_customers GROUP BY created_on
)
SELECT c.grain, c.period_start,
       coalesce(sum(a.customers), 0) AS customers_added,
       sum(coalesce(sum(a.customers), 0)) OVER (PARTITION BY c.grain ORDER BY c.period_start) AS customers_total
FROM _kpi_calendar c LEFT JOIN added a ON a.day = c.day
GROUP BY c.grain, c.period_start
QUALIFY c.period_start >= CAST(date_trunc(c.grain, $since) AS DATE);
