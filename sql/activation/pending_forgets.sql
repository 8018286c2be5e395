-- The forgets a published version may still hold (written by each forget in its transaction).
SELECT forget_id FROM forget_pending ORDER BY forgotten_at, forget_id;
