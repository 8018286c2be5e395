-- The highest value of a column loaded into a transaction table (a REST source's incremental cursor).
SELECT max({{column}}) AS v FROM {{table}};
