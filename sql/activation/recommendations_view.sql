-- The recommendations: each recommender model's items for a customer (predictions with items).
CREATE VIEW recommendations AS
SELECT
    date,
    customer_id,
    model,
    version,
    items
FROM predictions
WHERE items IS NOT NULL;
