-- An event matching two touchpoint specs (of one type) is one touch: the first spec's (of those
-- giving it a channel).
SELECT *
FROM ({{touches}}) AS u
WHERE u.channel IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY u.touch_id ORDER BY u.spec) = 1
