-- The long features (_long: row, feature, value) as cells of the wide matrix: the row of the
-- customer in _rows (customer_id order) and the column of the feature (feature name order), so the
-- matrix is filled with NumPy in one assignment, without moving customer ids or names per cell.
CREATE OR REPLACE TEMP TABLE _feature_names AS
SELECT feature, (row_number() OVER (ORDER BY feature) - 1)::INTEGER AS col FROM (SELECT DISTINCT feature FROM _long) AS f;
SELECT l.row, n.col, l.value
FROM _long l JOIN _feature_names n USING (feature)
