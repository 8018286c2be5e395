-- The customers of each experiment's sample-ratio check, held out or not, by the date of their first
-- presentation the report counts (complete windows only unless $include_incomplete): control
-- membership is drawn per customer, so the split tested is of customers, not of presentations.
SELECT experiment, is_control, first_date AS date, count(*) AS customers
FROM (
    SELECT experiment, customer_id, is_control, min(date) AS first_date
    FROM conversions
    WHERE window_complete OR $include_incomplete
    GROUP BY ALL
) AS firsts
GROUP BY ALL
ORDER BY ALL;
