-- What a published table holds, per part: per day ({{day}}, the table's day column) for a daily
-- table, one part (day NULL) for the others ({{day}} is then NULL): the rows and a fingerprint of
-- them (the sum of the rows' hashes, independent of their order). {{select}}: the table as published.
-- Grouped by the day's own value, made text once per part (text per row took twice as long at SF1).
SELECT
    p.part::VARCHAR AS day,
    p.rows,
    p.fingerprint::HUGEINT::VARCHAR AS fingerprint
FROM (
    SELECT
        {{day}} AS part,
        count(*) AS rows,
        sum(hash(t)) AS fingerprint
    FROM ({{select}}) AS t
    GROUP BY ALL
) AS p;
