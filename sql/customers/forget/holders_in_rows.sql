-- Which customers (`owner`) hold each collected identifier value in their own rows of `table` (`column`, kinds $kinds).
INSERT INTO _forget_holders
SELECT DISTINCT v.kind, v.value, t.owner
FROM (SELECT CAST({{owner}} AS VARCHAR) AS owner, unnest(_nj_values(CAST({{column}} AS VARCHAR), $cs)) AS value
      FROM {{table}} WHERE {{owner}} IS NOT NULL) t
JOIN (SELECT DISTINCT kind, value FROM _forget_values WHERE list_contains($kinds, kind)) v USING (value);
