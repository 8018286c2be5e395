-- attr_* multi-values as indicator features (long form): the $top most frequent values of each
-- attr_* column among _population become attr_<column>__<value> = 1, added to _long (by the
-- customer's row in _rows). The lists are unnested in a projection (not a lateral join, which DuckDB
-- plans as a join of every value back to its customer).
INSERT INTO _long
WITH v AS (
    SELECT customer_id, name, regexp_replace(lower(trim(val)), '[^a-z0-9]+', '_', 'g') AS val
    FROM (SELECT customer_id, name, unnest(vals) AS val
          FROM (UNPIVOT (SELECT customuid AS customer_id, COLUMNS('^attr_')
                         FROM customers WHERE customuid IN (SELECT customer_id FROM _population))
                ON COLUMNS('^attr_') INTO NAME name VALUE vals)) AS t
    WHERE trim(val) <> ''
),
top AS (
    SELECT name, val FROM v GROUP BY name, val
    QUALIFY row_number() OVER (PARTITION BY name ORDER BY count(*) DESC, val) <= $top
)
SELECT DISTINCT r.row, v.name || '__' || v.val AS feature, 1.0::DOUBLE AS value
FROM v JOIN top USING (name, val) JOIN _rows r USING (customer_id)
