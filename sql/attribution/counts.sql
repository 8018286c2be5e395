-- The conversions and credit rows of the days $a to $b.
SELECT count(DISTINCT(conversion, conversion_id)), count(*)
FROM attribution_credits
WHERE _partition_date BETWEEN $a AND $b;
