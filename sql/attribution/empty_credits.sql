-- The temp table the credits are computed into when they are not written (the columns of attribution_credits).
CREATE OR REPLACE TEMP TABLE _att_credits AS
SELECT * FROM attribution_credits
WHERE FALSE;
