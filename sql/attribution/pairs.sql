-- The data-driven models' (conversion, touch) pairs with the touch's position in time order:
-- <model_pairs> is one pair_model.sql per markov / shapley model over its touch set in
-- _att_ranked (or no_pairs.sql), with the conversion's columns (by its number cix). The paths they
-- learn from and their credits read it.
CREATE OR REPLACE TEMP TABLE _att_pairs AS
SELECT
    p.cix, c.day, c.conversion, c.conversion_id, c.customer_id, c.converted_at, p.value, p.model, p.model_type,
    p.touch_id, p.channel, p.channel_id, p.touched_at, p.pos, p.n, p.last_touched_at
FROM ({{model_pairs}}) AS p
INNER JOIN _att_conversions AS c ON p.cix = c.cix;
