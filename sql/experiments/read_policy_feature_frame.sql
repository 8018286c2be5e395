-- A kept frame in its order.
SELECT * EXCLUDE (_row) FROM {{frame}} ORDER BY _row;
