-- The last $days days of kpi_customer_behaviour for the plot: (day, series, value), the customers
-- whose first purchase was on each day (new buyers).
WITH firsts AS (
    SELECT CAST(first_purchase_at AS DATE) AS day FROM kpi_customer_behaviour WHERE first_purchase_at IS NOT NULL
)
SELECT day, 'new buyers' AS series, count(*) AS value FROM firsts
WHERE day > (SELECT max(day) FROM firsts) - $days
GROUP BY day ORDER BY day;
