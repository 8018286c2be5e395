-- The days $a to $b are attributed (their rows deleted first: delete_day.sql).
INSERT INTO attribution_days
SELECT unnest(generate_series($a::DATE, $b::DATE, INTERVAL 1 DAY))::DATE;
