-- Daily customers in total (the KPI trend).
SELECT period_start, 'customers' AS series, customers_total::DOUBLE AS customers
FROM kpi_customers WHERE grain = 'day'
ORDER BY period_start;
