SELECT * {{hidden}} FROM {{table}} WHERE _partition_date = $d LIMIT $n;
