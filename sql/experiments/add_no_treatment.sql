-- Uplift's no-treatment arm: a candidate of every customer of the experiment (nothing is sent).
INSERT INTO _cand
SELECT DISTINCT customer_id, $experiment, 'no_treatment' FROM _cand WHERE experiment = $experiment;
