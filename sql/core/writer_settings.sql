-- DuckDB checkpoints after every commit whose WAL passed 16 MB: a range run (one transaction per
-- day) then rewrote the table's metadata every day, 2-4 s per SF1 day of attribution. The WAL is
-- still written and synced at every commit; the checkpoint happens when the step's connection closes.
SET checkpoint_threshold = '1GB';
