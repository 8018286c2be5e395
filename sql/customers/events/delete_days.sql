-- The events of the days $a..$b (replaced whole by a run of those partitions).
DELETE FROM events WHERE _partition_date BETWEEN $a AND $b;
