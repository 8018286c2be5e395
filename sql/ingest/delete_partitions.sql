-- Empty the partitions of several days (a batch of a backfill) before their rows are written again.
DELETE FROM {{table}} WHERE list_contains($days, _partition_date);
