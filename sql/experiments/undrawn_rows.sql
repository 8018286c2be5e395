-- The rows of {{table}} without their arm drawn (written before the column existed), after adding it.
ALTER TABLE {{table}} ADD COLUMN IF NOT EXISTS drawn_variant VARCHAR;
SELECT count(*) FROM {{table}} WHERE drawn_variant IS NULL;
