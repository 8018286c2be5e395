-- The bootstrap intervals of day $d's summary rows (the registered Arrow table _att_intervals_arrow).
UPDATE attribution_summary AS s
SET conversions_lower = i.conversions_lower, conversions_upper = i.conversions_upper,
    value_lower = i.value_lower, value_upper = i.value_upper
FROM _att_intervals_arrow AS i
WHERE s.date = $d AND s.model = i.model AND s.conversion = i.conversion AND s.channel = i.channel;
