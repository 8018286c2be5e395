-- A customer file is applied again: its earlier rejects go.
DELETE FROM rejects WHERE dataset = $ds AND file = $file;
