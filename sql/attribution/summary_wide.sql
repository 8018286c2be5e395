-- summary.sql for days whose credited values could add up to more than DECIMAL(38, 18) holds (1e20,
-- value_bound.sql; each value is under it: conversion_source.sql): each channel's values are summed as
-- their whole parts (HUGEINT, up to 1.7e38) and their fractions (under 1 each) apart, both exact, then
-- added as DECIMAL where the total fits (the bits of summary.sql's sum), else as doubles. Slower (a
-- DECIMAL's whole part costs a division per row), so only for those days.
INSERT INTO attribution_summary (date, model, conversion, channel, channel_id, conversions, value)
SELECT
    _partition_date, model, conversion, channel, channel_id, conversions,
    CASE
        WHEN abs(whole) < 10000000000000000000::HUGEINT AND abs(fraction) < 1000000000000000000
            THEN (whole::DECIMAL(38, 18) + fraction)::DOUBLE
        ELSE whole::DOUBLE + fraction::DOUBLE
    END AS value
FROM (
    SELECT
        _partition_date, model, conversion, channel, any_value(channel_id) AS channel_id,
        sum(share)::DOUBLE AS conversions, sum(trunc(value)::HUGEINT) AS whole,
        sum(value - trunc(value)) AS fraction
    FROM (
        {{credits}}
    ) AS credits
    WHERE _partition_date BETWEEN $a AND $b
    GROUP BY _partition_date, model, conversion, channel
) AS totals;
