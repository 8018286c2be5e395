-- Transaction partitions are being replaced together (a backfill's days): their earlier rejects go with them.
DELETE FROM rejects WHERE dataset = $ds AND list_contains($days, partition_date);
