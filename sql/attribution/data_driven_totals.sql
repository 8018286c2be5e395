-- The credits of the conversions attributed (into <target>) of the data-driven models whose weights apply to every
-- conversion (_att_weights rows with channel_set '': Markov's `allocation: total`): each of the
-- model's conversions with a touch is split over those channels by their weights (which sum to 1),
-- one row per conversion and channel, naming no touch. Only those models' pairs are read (none, most
-- often: no distinct conversions of every pair to make).
INSERT INTO {{target}}
WITH converted AS (
    SELECT c.day, c.conversion, c.conversion_id, c.customer_id, c.converted_at, c.value, p.model, p.model_type
    FROM (
        SELECT DISTINCT cix, model, model_type
        FROM _att_pairs
        WHERE model IN (SELECT model FROM _att_weights WHERE channel_set = '')
    ) AS p
    INNER JOIN _att_conversions AS c USING (cix)
)
SELECT c.day, c.conversion, c.conversion_id, c.customer_id, c.model, c.model_type, NULL, w.channel,
       ch.channel_id, NULL, c.converted_at, c.value, w.weight, c.value * w.weight
FROM converted c
JOIN _att_weights w ON w.day = c.day AND w.model = c.model AND w.channel_set = ''
LEFT JOIN _att_channels ch ON ch.name = w.channel
WHERE w.weight <> 0;
