-- The rows of {{table}} whose day ({{day}}) is one of $days (what record.sql fingerprints).
SELECT * FROM {{table}}
WHERE list_contains($days::DATE [], {{day}})
