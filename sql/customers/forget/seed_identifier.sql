-- The identifier asked for, as identity matching compares it, once per kind it may be ($kinds).
INSERT INTO _forget_seeds
SELECT kind, _nj_norm($who, $cs), kind FROM (SELECT unnest($kinds) AS kind);
