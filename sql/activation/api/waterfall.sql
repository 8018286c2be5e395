-- A customer's waterfall in a training's explanation sample: the base value (the expected raw score,
-- log-odds) and the SHAP value of each explained feature (the model's top features), largest first;
-- with every feature explained, base value + contributions = the customer's raw score.
WITH steps AS (
    SELECT feature, value, value_text, shap
    FROM model_beeswarm
    WHERE model = $model AND version = $version AND customer_id = $customer
),

trained AS (
    SELECT json_array_length(features) AS features
    FROM model_trainings WHERE model = $model AND version = $version
    LIMIT 1
),

base AS (
    SELECT base_value FROM model_base_values WHERE model = $model AND version = $version
)

SELECT
    CAST($model AS VARCHAR) AS model,
    CAST($version AS DATE) AS version,
    $customer AS customer_id,
    (SELECT base_value FROM base) AS base_value,
    (SELECT features FROM trained) AS features,
    count(*) AS features_explained,
    (SELECT base_value FROM base) + sum(shap) AS explained_score,
    list(
        {'feature': feature, 'value': value, 'value_text': value_text, 'shap': shap}
        ORDER BY abs(shap) DESC, feature
    ) AS contributions
FROM steps
