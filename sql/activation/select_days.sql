-- The rows of a daily table as published ({{select}}) whose day ({{day}}) is one of $days, $days sorted:
-- the range of their first and last day lets the scan skip the table's other days (the list alone is
-- a join, which reads every row of the table).
SELECT * FROM ({{select}}) AS t
WHERE {{day}} BETWEEN $days[1] AND $days[-1] AND {{day}} IN (SELECT unnest($days));
