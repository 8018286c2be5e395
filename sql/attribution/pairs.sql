-- The data-driven models' (conversion, touch) pairs with the touch's position in time order:
-- <model_pairs> is one pair_model.sql per markov / shapley model over its touch set in
-- _att_ranked (or no_pairs.sql), with the conversion's day; a conversion is its number cix (its
-- other columns are joined back from _att_conversions where a row needs them: narrow rows, no
-- string of the conversion per pair). The paths they learn from and their credits read it.
CREATE OR REPLACE TEMP TABLE _att_pairs AS
SELECT
    p.cix, c.day, p.value, p.model, p.model_type,
    p.touch_id, p.channel, p.channel_id, p.touched_at, p.pos, p.n, p.last_touched_at
FROM ({{model_pairs}}) AS p
INNER JOIN _att_conversions AS c ON p.cix = c.cix;
