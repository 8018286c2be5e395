-- A whole table, as published.
SELECT * FROM {{table}};
