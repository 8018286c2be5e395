-- attr_* multi-values as indicator features (long form): the $top most frequent values of each
-- attr_* column among _population become attr_<column>__<value> = 1, added to _long (by the
-- customer's row in _rows) under numbers after those of _feature_ids, which gets their names. The
-- lists are unnested in a projection (not a lateral join, which DuckDB plans as a join of every value
-- back to its customer).
CREATE OR REPLACE TEMP TABLE _attr_values AS
SELECT customer_id, name, regexp_replace(lower(trim(val)), '[^a-z0-9]+', '_', 'g') AS val
FROM (SELECT customer_id, name, unnest(vals) AS val
      FROM (UNPIVOT (SELECT customuid AS customer_id, COLUMNS('^attr_')
                     FROM customers WHERE customuid IN (SELECT customer_id FROM _population))
            ON COLUMNS('^attr_') INTO NAME name VALUE vals)) AS t
WHERE trim(val) <> '';
CREATE OR REPLACE TEMP TABLE _attr_top AS
SELECT top.name, top.val,
       ((SELECT coalesce(max(f.fid), 1) FROM _feature_ids AS f)
        + row_number() OVER (ORDER BY top.name, top.val))::INTEGER AS fid
FROM (SELECT name, val FROM _attr_values GROUP BY name, val
      QUALIFY row_number() OVER (PARTITION BY name ORDER BY count(*) DESC, val) <= $top) AS top;
INSERT INTO _feature_ids SELECT t.fid, t.name || '__' || t.val FROM _attr_top AS t;
INSERT INTO _long
SELECT DISTINCT r.row, t.fid, 1.0::DOUBLE AS value
FROM _attr_values AS v JOIN _attr_top AS t USING (name, val) JOIN _rows AS r USING (customer_id);
DROP TABLE _attr_values;
DROP TABLE _attr_top;
