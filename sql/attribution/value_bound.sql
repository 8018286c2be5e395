-- The most any channel's credited value of the days $a to $b can add up to: the sum of the
-- conversions' values, as they are (a conversion's credits in a model sum to its value).
SELECT coalesce(sum(abs(value)), 0) FROM _att_conversions WHERE day BETWEEN $a AND $b;
