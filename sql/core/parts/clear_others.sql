-- Forget the recorded fingerprints of $table's days that are not in $days (the days it holds now).
DELETE FROM part_fingerprints
WHERE table_name = $table AND NOT list_contains($days::DATE [], day);
