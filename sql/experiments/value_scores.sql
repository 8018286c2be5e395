-- An experiment's value model (a clv model): each customer's score times their expected value over
-- the model's horizon (`clv` of the latest clv partition BEFORE $day of model $model; a customer
-- without one, who bought nothing in its window, gets that partition's average). Without a model
-- score the score is the value alone. The experiment's rows of _scores are replaced.
CREATE OR REPLACE TEMP TABLE _scores AS
WITH latest AS (
    SELECT
        customer_id,
        clv
    FROM clv
    WHERE model = $model AND date = (SELECT max(date) FROM clv WHERE model = $model AND date < $day)
),

valued AS (
    SELECT
        c.customer_id,
        coalesce(l.clv, (SELECT avg(clv) FROM latest)) AS value
    FROM (SELECT DISTINCT customer_id FROM _cand WHERE experiment = $experiment) AS c
    LEFT JOIN latest AS l USING (customer_id)
)

SELECT
    experiment,
    customer_id,
    score
FROM _scores
WHERE experiment <> $experiment
UNION ALL
SELECT
    $experiment,
    v.customer_id,
    coalesce(s.score, 1.0) * v.value AS score
FROM valued AS v
LEFT JOIN _scores AS s ON s.experiment = $experiment AND v.customer_id = s.customer_id;
