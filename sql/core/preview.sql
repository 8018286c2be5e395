SELECT * {{hidden}} FROM {{table}} LIMIT $n;
