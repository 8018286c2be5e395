-- For the window: conversions x models whose shares do not sum to 1 or whose credited value is not
-- the conversion's value; the conversions; the credit rows.
WITH per AS (
    SELECT conversion, conversion_id, model, sum(credit_share) AS shares, sum(credited_value) AS credited,
           any_value(conversion_value) AS value
    FROM attribution_credits
    WHERE _partition_date BETWEEN $a AND $b
    GROUP BY ALL
)
SELECT count(*) FILTER (WHERE abs(shares - 1) > 1e-9 OR abs(credited - value) > 1e-9 * greatest(1, abs(value))),
       count(DISTINCT(conversion, conversion_id)),
       (SELECT count(*) FROM attribution_credits WHERE _partition_date BETWEEN $a AND $b)
FROM per;
