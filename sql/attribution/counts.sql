-- The conversions and credit rows of day $d.
SELECT count(DISTINCT(conversion, conversion_id)), count(*)
FROM attribution_credits
WHERE _partition_date = $d;
