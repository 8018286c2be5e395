-- The long features (_long: row, fid, value) as cells of the wide matrix: the row of the customer in
-- _rows (customer_id order) and the number of the feature (its name in _feature_ids), so the matrix
-- is filled with NumPy in one assignment, without moving customer ids or names per cell
-- (pipeline/models/features.py finds each number's column: the features with a cell, in name order).
SELECT l.row, l.fid, l.value FROM _long AS l
