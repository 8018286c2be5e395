-- The customers of kpi_customer_behaviour whose total spending is too large to hold exactly (NULL:
-- 1e20 or more), as "customers: <n>" (their ids stay in the table).
SELECT 'customers: ' || count(*) FROM kpi_customer_behaviour WHERE total_spending IS NULL HAVING count(*) > 0;
