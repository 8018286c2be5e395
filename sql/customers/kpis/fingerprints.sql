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
