-- The rows of {{table}} per day ({{day}}, as ISO text; NULL for rows without a day), grouped by the
-- day's own value and made text once per day.
SELECT
    c.part::VARCHAR AS day,
    c.rows
FROM (
    SELECT
        {{day}} AS part,
        count(*) AS rows
    FROM {{table}}
    GROUP BY ALL
) AS c;
