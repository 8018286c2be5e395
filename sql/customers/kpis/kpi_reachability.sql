-- kpi_reachability: per period of each grain and reachability, the customers created in it and the
-- running total. Reachability is the customer's as of now (email: has an emailsha256; mobile: has an
-- idfa), counted by creation day like kpi_customers, so the four totals add up to customers_total.
-- An update recomputes the periods from the one holding $since on (all of them: a full rebuild).
INSERT INTO kpi_reachability (grain, period_start, reachability, customers_added, customers_total)
WITH added AS (
    SELECT created_on AS day,
           CASE WHEN has_email AND has_mobile THEN 'email_and_mobile'
                WHEN has_email THEN 'email_only'
                WHEN has_mobile THEN 'mobile_only'
                ELSE 'not_reachable' END AS reachability,
           count(*) AS customers
    FROM _kpi_customers GROUP BY ALL
), kinds AS (
    SELECT * FROM (VALUES ('email_and_mobile'), ('email_only'), ('mobile_only'), ('not_reachable')) k(reachability)
)
SELECT c.grain, c.period_start, k.reachability,
       coalesce(sum(a.customers), 0) AS customers_added,
       sum(coalesce(sum(a.customers), 0))
           OVER (PARTITION BY c.grain, k.reachability ORDER BY c.period_start) AS customers_total
FROM _kpi_calendar c CROSS JOIN kinds k
LEFT JOIN added a ON a.day = c.day AND a.reachability = k.reachability
GROUP BY c.grain, c.period_start, k.reachability
QUALIFY c.period_start >= CAST(date_trunc(c.grain, $since) AS DATE);
