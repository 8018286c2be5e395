-- Whether a customer is in a training's explanation sample (its beeswarm).
SELECT customer_id FROM model_beeswarm
WHERE model = $model AND version = $version AND customer_id = $customer
LIMIT 1
