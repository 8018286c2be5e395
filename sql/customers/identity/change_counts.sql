-- How many rows of the identity map and how many feed keys a rebuild changes.
SELECT (SELECT count(*) FROM _map_diff) AS map_rows, (SELECT count(*) FROM _changed_keys) AS keys;
