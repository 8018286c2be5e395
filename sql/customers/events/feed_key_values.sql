-- A feed's distinct customer keys of the days $a..$b as compared (<key_value>, over its
-- <key_column> in <table>): the identifier values its rows of those days can point at.
SELECT DISTINCT {{key_value}} AS value
FROM {{table}}
WHERE {{key_column}} IS NOT NULL AND _partition_date BETWEEN $a AND $b
