-- Empty one day's partition of a transaction table before its rows are written again.
DELETE FROM {{table}} WHERE _partition_date = $d;
