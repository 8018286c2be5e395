-- One clv model's values of a day (_rows: date, customer_id, model, version, horizon_days, p_alive,
-- expected_purchases, expected_spend, clv).
INSERT INTO clv (
    date, customer_id, model, version, horizon_days, p_alive, expected_purchases, expected_spend, clv
)
SELECT
    date,
    customer_id,
    model,
    version,
    horizon_days,
    p_alive,
    expected_purchases,
    expected_spend,
    clv
FROM _rows
