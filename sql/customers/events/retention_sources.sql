-- The feeds the doomed events came from.
SELECT DISTINCT source FROM _doomed ORDER BY 1;
