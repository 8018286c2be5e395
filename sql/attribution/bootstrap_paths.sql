-- A data-driven model's ($model) conversions with a touch (i from _att_boot) and their paths, the
-- channels joined by chr(31) in time order.
SELECT b.i, array_to_string(list(p.channel ORDER BY p.pos), chr(31)) AS path
FROM _att_pairs AS p
JOIN _att_boot AS b USING (cix)
WHERE p.model = $model
GROUP BY b.i
ORDER BY b.i;
