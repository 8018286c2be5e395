-- Customer files applied again together: their earlier rejects go.
DELETE FROM rejects WHERE dataset = $ds AND list_contains($files, file);
