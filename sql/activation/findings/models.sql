-- Each response or churn model's latest test AUC, next to the rank correlation of its last scores
-- with the truth ($truth: the demo's truth/customers.csv): purchase propensity, or churn risk for a
-- churn model.
WITH latest AS (
    SELECT model, type, json_extract(metrics::JSON, '$.auc')::DOUBLE AS auc
    FROM model_trainings
    WHERE status = 'FINISHED'
    QUALIFY row_number() OVER (PARTITION BY model ORDER BY version DESC) = 1
),
scores AS (
    SELECT p.model, p.score, CASE WHEN l.type = 'churn' THEN t.churn_risk ELSE t.propensity END AS truth
    FROM predictions AS p
    INNER JOIN latest AS l ON p.model = l.model
    INNER JOIN read_csv($truth, header = TRUE) AS t ON p.customer_id = t.customuid
    WHERE p.date = (SELECT max(date) FROM predictions) AND l.type IN ('response', 'churn')
),
ranked AS (
    SELECT
        model,
        rank() OVER (PARTITION BY model ORDER BY score) AS score_rank,
        rank() OVER (PARTITION BY model ORDER BY truth) AS truth_rank
    FROM scores
)
SELECT l.model, l.type, l.auc, corr(r.score_rank, r.truth_rank) AS truth_rank_corr
FROM latest AS l
INNER JOIN ranked AS r ON l.model = r.model
GROUP BY l.model, l.type, l.auc
ORDER BY l.model;
