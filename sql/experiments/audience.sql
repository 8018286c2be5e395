-- The audience of one experiment on $day, once for all its variants (sql/experiments/candidates.sql):
-- the people who pass every audience rule (`rules`, TRUE without any, their values bound) and, with a
-- cadence, whose night it is (`cadence`: sql/experiments/cadence.sql, else TRUE).
CREATE OR REPLACE TEMP TABLE _audience AS
SELECT p.customer_id FROM _people AS p
WHERE {{rules}} AND {{cadence}};
