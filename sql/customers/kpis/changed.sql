-- KPI $kpi against its last build (built_kpis) and the inputs now (_kpi_fp): the days it was built
-- from, the last of them, and how many days changed since (new, different or gone) and the first.
WITH built AS (
    SELECT source, day, rows, fingerprint FROM built_kpis WHERE kpi = $kpi
), changed AS (
    SELECT coalesce(f.day, b.day) AS day, f.day IS NULL AND b.day IS NULL AS undated
    FROM _kpi_fp AS f
    FULL JOIN built AS b ON f.source = b.source AND f.day IS NOT DISTINCT FROM b.day
    WHERE f.rows IS DISTINCT FROM b.rows OR f.fingerprint IS DISTINCT FROM b.fingerprint
)
SELECT
    (SELECT count(*) FROM built) AS built_days,
    (SELECT max(day) FROM built) AS last_built,
    (SELECT count(*) FROM changed) AS changed_days,
    (SELECT min(day) FROM changed) AS first_changed,
    (SELECT count(*) FILTER (WHERE undated) FROM changed) AS undated;
