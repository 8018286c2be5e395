-- The data-driven models' (conversion, touch) pairs with the touch's position in time order:
-- <model_pairs> is one pair_model.sql per markov / shapley model over its touch set in
-- _att_ranked (or no_pairs.sql). The paths they learn from and their credits read it.
CREATE OR REPLACE TEMP TABLE _att_pairs AS
SELECT
    cix, day, conversion, conversion_id, customer_id, converted_at, value, model, model_type,
    touch_id, channel, channel_id, touched_at, pos, n, last_touched_at
FROM ({{model_pairs}}) AS model_pairs;
