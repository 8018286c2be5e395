-- The model's score of each customer for one experiment: the latest predictions partition on or
-- before $day of model $model (customers without a score get the average score of that partition).
INSERT INTO _scores
WITH latest AS (
    SELECT customer_id, score FROM predictions
    WHERE model = $model AND date = (SELECT max(date) FROM predictions WHERE model = $model AND date <= $day)
)
SELECT $experiment, c.customer_id, coalesce(l.score, (SELECT avg(score) FROM latest))
FROM (SELECT DISTINCT customer_id FROM _cand WHERE experiment = $experiment) c
LEFT JOIN latest l USING (customer_id);
