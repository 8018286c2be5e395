-- Event features of _population as of $cutoff, in long form (customer_id, feature, value).
-- This is the only place features read events: strictly before the cut-off (both the event time
-- and its partition) and within $history_days of it. Windows ($windows, days) look back from the
-- cut-off; the config can only choose their lengths (at least 1 day), never their end.
CREATE OR REPLACE TEMP TABLE _activity AS
WITH ev AS (
    SELECT e.customer_id,
           regexp_replace(e.type, '[^A-Za-z0-9]+', '_', 'g') AS type,
           regexp_replace(lower(e.channel), '[^a-z0-9]+', '_', 'g') AS channel,
           date_diff('second', e.occurred_at, $cutoff::TIMESTAMP) / 86400.0 AS age_days,
           e.value  -- DECIMAL: sums are exact, so features do not depend on summation order
    FROM events e JOIN _population p ON p.customer_id = e.customer_id
    WHERE e.occurred_at < $cutoff::TIMESTAMP
      AND e._partition_date < $cutoff::DATE
      AND e.occurred_at >= $cutoff::TIMESTAMP - to_days($history_days::INTEGER)
),
windows AS (SELECT unnest($windows::INTEGER[]) AS w)
SELECT customer_id, 'count_' || type || '_' || w || 'd' AS feature, count(*)::DOUBLE AS value
FROM ev JOIN windows ON ev.age_days <= w GROUP BY ALL
UNION ALL
SELECT customer_id, 'value_' || type || '_' || w || 'd', sum(value)::DOUBLE
FROM ev JOIN windows ON ev.age_days <= w WHERE value IS NOT NULL GROUP BY ALL
UNION ALL
SELECT customer_id, 'days_since_last_' || type, min(age_days) FROM ev GROUP BY ALL
UNION ALL
SELECT customer_id, 'count_channel_' || channel, count(*)::DOUBLE FROM ev WHERE channel IS NOT NULL GROUP BY ALL
UNION ALL
SELECT customer_id, 'days_since_first_event', max(age_days) FROM ev GROUP BY ALL
UNION ALL
SELECT customer_id, 'days_since_last_event', min(age_days) FROM ev GROUP BY ALL;
