-- The last day through which every dataset the conversions read has a successful load (NULL: none).
SELECT min(last_day) FROM (
    SELECT d.dataset, max(l.partition_date) AS last_day
    FROM (SELECT unnest($datasets) AS dataset) d
    LEFT JOIN loads l ON l.dataset = d.dataset AND l.status IN ('LOADED', 'PROCESSED')
    GROUP BY d.dataset
);
