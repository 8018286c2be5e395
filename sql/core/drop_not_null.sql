-- A column that a newer Nightjar lets be NULL (e.g. a KPI's money total too large to hold exactly).
ALTER TABLE {{table}} ALTER COLUMN {{column}} DROP NOT NULL;
