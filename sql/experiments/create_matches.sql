-- The matches of the day a measure of conversions adds up (pipeline/experiments/conversions.py,
-- measure; dropped by drop_matches.sql).
-- metric: what a match counts for in the window ('primary' or a guardrail's name; NULL for a
-- covariate definition); pre_of: the metric it is the pre-period covariate of (NULL: none)
CREATE OR REPLACE TEMP TABLE _matches (
    customer_id VARCHAR, experiment VARCHAR, source VARCHAR, matched_at TIMESTAMP, value DECIMAL(38,18),
    keep_all BOOLEAN, metric VARCHAR, pre_of VARCHAR);
