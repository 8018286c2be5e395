-- kpi_events: per period of each grain, events by type and context: how many, how many anonymous,
-- and how many distinct known customers. Every period has a row for every (type, context) that
-- occurs in the events, zeros included. Each grain counts only the days of the periods it
-- recomputes (an update's day grain reads its days, not the whole month's).
-- An update recomputes the periods from the one holding $since on (all of them: a full rebuild).
-- The (type, context) pairs are those counted and those the table already has.
INSERT INTO kpi_events (grain, period_start, type, context, events, anonymous_events, customers)
WITH e AS (
    SELECT day, CAST(date_trunc('week', day) AS DATE) AS week, CAST(date_trunc('month', day) AS DATE) AS month,
           type, context, customer_id
    FROM _kpi_events
    WHERE day >= least(CAST(date_trunc('week', $since) AS DATE), CAST(date_trunc('month', $since) AS DATE))
), counted AS (  -- each grain over the days of its periods from the one holding $since on
    SELECT 'day' AS grain, day AS period_start, type, context, count(*) AS events,
           count(*) FILTER (WHERE customer_id IS NULL) AS anonymous_events,
           count(DISTINCT customer_id) AS customers
    FROM e WHERE day >= $since GROUP BY day, type, context
    UNION ALL
    SELECT 'week', week, type, context, count(*), count(*) FILTER (WHERE customer_id IS NULL),
           count(DISTINCT customer_id)
    FROM e WHERE week >= CAST(date_trunc('week', $since) AS DATE) GROUP BY week, type, context
    UNION ALL
    SELECT 'month', month, type, context, count(*), count(*) FILTER (WHERE customer_id IS NULL),
           count(DISTINCT customer_id)
    FROM e WHERE month >= CAST(date_trunc('month', $since) AS DATE) GROUP BY month, type, context
)
SELECT p.grain, p.period_start, k.type, k.context,
       coalesce(n.events, 0), coalesce(n.anonymous_events, 0), coalesce(n.customers, 0)
FROM _kpi_periods p
CROSS JOIN (
    SELECT DISTINCT type, context FROM counted
    UNION
    SELECT type, context FROM kpi_events
) k
LEFT JOIN counted n ON n.grain = p.grain AND n.period_start = p.period_start
                   AND n.type = k.type AND n.context = k.context
WHERE p.period_start >= CAST(date_trunc(p.grain, $since) AS DATE);
