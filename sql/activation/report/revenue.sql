-- Daily revenue per context (the KPI trend).
SELECT period_start, context, revenue::DOUBLE AS revenue
FROM kpi_purchases WHERE grain = 'day'
ORDER BY period_start, context;
