-- The customers (`owner`) whose own rows of `table` hold the identifier asked for in `column` (of kinds $kinds);
-- finds them even when the identity map is older than the row (e.g. customer data uploaded since).
-- A column that holds several kinds cannot say which kind matched (given is then NULL).
INSERT INTO _forget_found
SELECT DISTINCT t.owner, CASE WHEN len($kinds) = 1 THEN s.given END
FROM (SELECT CAST({{owner}} AS VARCHAR) AS owner, unnest(_nj_values(CAST({{column}} AS VARCHAR), $cs)) AS value
      FROM {{table}} WHERE {{owner}} IS NOT NULL) t
JOIN _forget_seeds s ON s.value = t.value AND list_contains($kinds, s.kind);
