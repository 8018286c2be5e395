-- Forget the recorded fingerprints of $table's days in $days.
DELETE FROM part_fingerprints
WHERE table_name = $table AND list_contains($days::DATE [], day);
