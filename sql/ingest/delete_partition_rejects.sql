-- A transaction partition is being replaced: its earlier rejects go with it.
DELETE FROM rejects WHERE dataset = $ds AND partition_date = $d;
