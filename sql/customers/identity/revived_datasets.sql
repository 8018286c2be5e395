-- The feeds with keys whose events come back (_revived_keys).
SELECT DISTINCT dataset FROM _revived_keys;
