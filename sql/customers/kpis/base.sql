-- What every KPI is computed from: temporary views on the KPI asset's own connection (they go when
-- it closes). Read from customers, customer_identities and events; nothing here writes.

-- Customers dropped by an exclusion filter of the identity policy (test accounts): neither they nor
-- anything they did ever counts in a KPI.
CREATE OR REPLACE TEMP VIEW _kpi_excluded AS
SELECT DISTINCT customer_id FROM customer_identities WHERE excluded;

-- The customers that count: their creation day (the day of the customer file they first appeared
-- in) and how they can be reached, from their identifiers in the customer data:
-- email = has an emailsha256, mobile = has an idfa.
CREATE OR REPLACE TEMP VIEW _kpi_customers AS
SELECT c.customuid AS customer_id, c._first_seen_at AS created_on,
       coalesce(r.has_email, FALSE) AS has_email, coalesce(r.has_mobile, FALSE) AS has_mobile
FROM customers c
LEFT JOIN (SELECT customer_id, bool_or(kind = 'emailsha256') AS has_email, bool_or(kind = 'idfa') AS has_mobile
           FROM customer_identities WHERE dataset = 'customers' GROUP BY customer_id) r
       ON r.customer_id = c.customuid
WHERE c.customuid NOT IN (SELECT customer_id FROM _kpi_excluded);

-- The events that count: anonymous ones (customer_id NULL) and those of customers not excluded.
-- `day` is the event's UTC day (its partition).
CREATE OR REPLACE TEMP VIEW _kpi_events AS
SELECT *, _partition_date AS day FROM events
WHERE customer_id IS NULL OR customer_id NOT IN (SELECT customer_id FROM _kpi_excluded);

-- The orders, one rule for every KPI: each event of type `order_type` (completedOrder), and each
-- event of type `session_type` (web_sessions) whose properties say `purchased: true`. An order
-- in context WEB is reported as ECOMMERCE (it was placed online); any other context (RETAIL,
-- MOBILE, ...) is reported as it is. `value` is the order's value (NULL: an order without one).
-- Only the columns the KPIs read (not the event's id: 0.1 s of reading them into a temp table at SF1).
-- Two parts, so that the orders' own rows never read `properties` (the JSON column is most of the
-- cost of the read); a session type equal to the order type counts once, as an order.
CREATE OR REPLACE TEMP MACRO _kpi_orders(order_type, session_type) AS TABLE
SELECT customer_id, day, occurred_at, value, currency,
       CASE context WHEN 'WEB' THEN 'ECOMMERCE' ELSE context END AS context
FROM _kpi_events
WHERE type = order_type
UNION ALL
SELECT customer_id, day, occurred_at, value, currency,
       CASE context WHEN 'WEB' THEN 'ECOMMERCE' ELSE context END AS context
FROM _kpi_events
WHERE type = session_type AND type <> order_type
  AND coalesce(TRY_CAST(properties->>'purchased' AS BOOLEAN), FALSE);
