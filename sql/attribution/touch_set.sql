-- A model's touches from _att_ranked: those of its touch set (p<k>), with where they stand (<pos_k>:
-- pos<k>, 1 first, n<k> last, 2 between; or their position, numbered for the data-driven models'
-- pairs), the count (n<k>) and the last touch (last<k>) of the conversion's touches in the set; ord
-- orders them in time.
SELECT
    cix, conversion_value AS value, touch_id, channel, channel_id, touched_at, ord,
    {{pos_k}} AS pos,
    {{n_k}} AS n,
    {{last_k}} AS last_touched_at
FROM _att_ranked
WHERE {{in_set_k}}
