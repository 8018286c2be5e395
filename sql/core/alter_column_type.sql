-- A column whose type a newer Nightjar declares wider (e.g. money DECIMAL(18,4) -> DECIMAL(38,18)).
ALTER TABLE {{table}} ALTER COLUMN {{column}} TYPE {{type}};
