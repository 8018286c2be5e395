SELECT * FROM {{table}} LIMIT $n;
