-- The identifier values (`column`, of kinds $kinds) in the forgotten customers' own rows of `table`
-- (e.g. every e-mail hash of a multi-value customers.emailsha256 cell).
INSERT INTO _forget_values
SELECT k.kind, v.value
FROM (SELECT DISTINCT unnest(_nj_values(CAST({{column}} AS VARCHAR), $cs)) AS value
      FROM {{table}} WHERE _nj_forgotten({{owner}})) v
CROSS JOIN (SELECT unnest($kinds) AS kind) k;
