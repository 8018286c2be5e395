-- A range file is loaded again: its earlier rejects of these days (and of no day, when $undated) go.
DELETE FROM rejects
WHERE dataset = $ds AND file = $file
    AND (list_contains($days, partition_date) OR ($undated AND partition_date IS NULL));
