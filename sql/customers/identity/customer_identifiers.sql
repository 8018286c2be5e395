-- Every identifier (customer_id, kind, value, excluded) of the customer data set into _ids.
-- Filled in: `excluded`, the exclusion filters compiled over a customers row (values bound as
-- $x<i>); `identifiers`, one SELECT per identifier kind the data set has, over _c, joined by
-- UNION ALL (so _c is read by that fragment only).
INSERT INTO _ids
WITH _c AS (SELECT *, ({{excluded}}) AS _excluded FROM customers)  -- noqa: ST03
SELECT * FROM ({{identifiers}}) AS ids WHERE value IS NOT NULL AND value <> '';
