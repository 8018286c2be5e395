-- Mark a forget as pending until a publication without its rows has removed every older version.
INSERT INTO forget_pending (forget_id, forgotten_at) VALUES ($forget_id, $at);
