-- The identifier asked for, as identity matching compares it, once per kind it may be ($kinds).
INSERT INTO _forget_seeds
SELECT k.kind, _nj_norm($who, $cs) AS value, k.kind AS given FROM (SELECT unnest($kinds) AS kind) AS k;
