-- Each customer's purchase summary for BG/NBD and Gamma-Gamma, from the qualifying events of the
-- calibration window (_qualifying: customer_id, occurred_at, value) of the customers in _population.
-- A purchase is a day with a qualifying event (its value: the day's sum); frequency counts the repeat
-- purchase days, recency runs from the first to the last purchase day and T from the first purchase
-- day to the last day before $cutoff, both in days divided by $unit_days (1: days, 7: weeks);
-- monetary_value is the mean value of the repeat purchase days (0 without one). The values are added
-- up as decimals (the events' own type): an exact sum, the same whatever order the rows come in
-- ({{day_value}}: day_value.sql; day_value_wide.sql, doubles, where they could add up past 1e20).
WITH purchase_days AS (
    SELECT q.customer_id, CAST(q.occurred_at AS DATE) AS day, {{day_value}} AS value
    FROM _qualifying AS q
    WHERE q.customer_id IN (SELECT p.customer_id FROM _population AS p)
    GROUP BY q.customer_id, CAST(q.occurred_at AS DATE)
),

numbered AS (
    SELECT
        customer_id,
        day,
        value,
        row_number() OVER (PARTITION BY customer_id ORDER BY day) AS n
    FROM purchase_days
)

SELECT
    customer_id,
    (count(*) - 1)::DOUBLE AS frequency,
    date_diff('day', min(day), max(day)) / $unit_days::DOUBLE AS recency,
    date_diff('day', min(day), $cutoff::DATE - 1) / $unit_days::DOUBLE AS t,
    coalesce(avg(value) FILTER (WHERE n > 1), 0)::DOUBLE AS monetary_value
FROM numbered
GROUP BY customer_id
ORDER BY customer_id
