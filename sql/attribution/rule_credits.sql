-- The rule-based models' credits, all models at once: a weight per touch by its position (pos of
-- n) or age, normalised over the conversion's touches. Touches with no credit are left out.
-- Sums run in a fixed order (ORDER BY in the window) so that re-running gives the same bits.
INSERT INTO _att_credits
SELECT conversion, conversion_id, customer_id, model, model_type, touch_id, channel, channel_id,
       touched_at, converted_at, value, share, value * share
FROM (
    SELECT *, weight / sum(weight) OVER (PARTITION BY conversion, conversion_id, model ORDER BY pos
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS share
    FROM (
        SELECT *, CASE model_type
            WHEN 'first' THEN CASE WHEN pos = 1 THEN 1.0 ELSE 0.0 END
            WHEN 'last' THEN CASE WHEN pos = n THEN 1.0 ELSE 0.0 END
            WHEN 'spread' THEN CASE WHEN n = 1 THEN 1.0 WHEN pos = 1 THEN first_weight
                                    WHEN pos = n THEN last_weight ELSE 1.0 END
            WHEN 'position' THEN CASE WHEN n = 1 THEN 1.0
                                      WHEN n = 2 THEN CASE WHEN pos = 1 THEN first_share ELSE last_share END
                                      WHEN pos = 1 THEN first_share WHEN pos = n THEN last_share
                                      ELSE (1.0 - first_share - last_share) / (n - 2) END
            WHEN 'time_decay' THEN pow(2.0, -(epoch(last_touched_at) - epoch(touched_at)) / 86400.0 / half_life_days)
        END AS weight
        FROM _att_pairs
        WHERE model_type IN ('first', 'last', 'spread', 'position', 'time_decay')
    )
)
WHERE share > 0;
