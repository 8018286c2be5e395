-- The rows of the last day, week and month of a period KPI (`table`), day first.
SELECT *
FROM {{table}}
QUALIFY period_start = max(period_start) OVER (PARTITION BY grain)
ORDER BY list_position(['day', 'week', 'month'], grain), 3
LIMIT 60;
