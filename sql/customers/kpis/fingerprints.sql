-- The KPIs' inputs now, per source and day: the events that count (by day; each event's load, customer,
-- type, context and value: a late or re-sent file is a new load) and the customers that count (by
-- creation day, with their reachability). Excluding or forgetting a customer changes their days.
CREATE OR REPLACE TEMP TABLE _kpi_fp AS
SELECT
    'events' AS source, day, count(*) AS rows,
    sum(hash(load_id, customer_id, type, context, value))::HUGEINT AS fingerprint
FROM _kpi_events
GROUP BY day
UNION ALL
SELECT 'customers', created_on, count(*), sum(hash(customer_id, has_email, has_mobile))::HUGEINT
FROM _kpi_customers
GROUP BY created_on;

-- The calendar: every day from the first day with data (a customer created, an event) to the
-- last, with the period of each grain it falls in: the day itself, the ISO week (starting on
-- Monday) and the calendar month (starting on the 1st). Its bounds are those of the days just
-- fingerprinted (the same days as every counted customer and event: no second read of the events).
-- Kept as a temp table: five KPIs read it (as _kpi_fp and _kpi_order_rows, it is as the inputs were
-- when they were fingerprinted).
CREATE OR REPLACE TEMP TABLE _kpi_calendar AS
WITH bounds AS (
    SELECT min(day) AS first_day, max(day) AS last_day FROM _kpi_fp
), days AS (
    SELECT CAST(unnest(generate_series(first_day, last_day, INTERVAL 1 DAY)) AS DATE) AS day
    FROM bounds WHERE first_day IS NOT NULL
)
SELECT g.grain, CAST(date_trunc(g.grain, days.day) AS DATE) AS period_start, days.day
FROM days CROSS JOIN (VALUES ('day'), ('week'), ('month')) g(grain);

-- Every period of every grain in the calendar.
CREATE OR REPLACE TEMP TABLE _kpi_periods AS
SELECT DISTINCT grain, period_start FROM _kpi_calendar;
