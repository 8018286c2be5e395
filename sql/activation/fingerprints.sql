-- What a published table holds, per part: per day ({{day}}, the table's day column) for a daily
-- table, one part (day NULL) for the others ({{day}} is then NULL): the rows and a fingerprint of
-- them (the sum of the rows' hashes, independent of their order). {{select}}: the table as published.
SELECT
    {{day}}::VARCHAR AS day,
    count(*) AS rows,
    sum(hash(t))::HUGEINT::VARCHAR AS fingerprint
FROM ({{select}}) AS t
GROUP BY ALL;
