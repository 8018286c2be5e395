-- The model's score of each customer for one experiment: the latest predictions partition BEFORE
-- $day of model $model (customers without a score get the average score of that partition).
-- Strictly before: predictions of a day include that day's events, and the decisions of $day are
-- made from the data before it (so a re-run gives the same rows, whatever ran first in the night).
INSERT INTO _scores
WITH latest AS (
    SELECT customer_id, score FROM predictions
    WHERE model = $model AND date = (SELECT max(date) FROM predictions WHERE model = $model AND date < $day)
)
SELECT $experiment, c.customer_id, coalesce(l.score, (SELECT avg(score) FROM latest))
FROM (SELECT DISTINCT customer_id FROM _cand WHERE experiment = $experiment) c
LEFT JOIN latest l USING (customer_id);
