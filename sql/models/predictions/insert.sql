-- One model's scores of a day (_rows: date, customer_id, model, version, score, items).
INSERT INTO predictions (date, customer_id, model, version, score, items)
SELECT date, customer_id, model, version, score, items::VARCHAR[] FROM _rows
