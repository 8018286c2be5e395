-- The rows of a daily table as published ({{select}}) whose day ({{day}}) is one of $days.
SELECT * FROM ({{select}}) AS t
WHERE {{day}} IN (SELECT unnest($days));
