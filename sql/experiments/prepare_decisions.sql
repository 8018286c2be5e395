-- Connection-local helpers of the decision step.
-- A uniform number in (0, 1) from a string: the first 52 bits of its MD5, stable across runs and versions.
CREATE OR REPLACE TEMP MACRO _unit(s) AS (CAST(('0x' || substr(md5(s), 1, 13)) AS BIGINT) + 0.5) / 4503599627370496.0;
CREATE OR REPLACE TEMP TABLE _exp (
    experiment VARCHAR, experiment_group VARCHAR, control_share DOUBLE, exploration DOUBLE, weighted BOOLEAN, policy VARCHAR);
CREATE OR REPLACE TEMP TABLE _cand (customer_id VARCHAR, experiment VARCHAR, variant VARCHAR);
CREATE OR REPLACE TEMP TABLE _rates (experiment VARCHAR, variant VARCHAR, propensity DOUBLE);
CREATE OR REPLACE TEMP TABLE _scores (experiment VARCHAR, customer_id VARCHAR, score DOUBLE);
-- a learned policy's probability and expected value of each candidate arm (pipeline/experiments/learned.py);
-- warming: the arms propensity or uplift still warms up on for the customer, who is drawn uniformly
-- (NULL: decided by what was learned)
CREATE OR REPLACE TEMP TABLE _policy (
    customer_id VARCHAR, experiment VARCHAR, variant VARCHAR, p DOUBLE, value DOUBLE, warming VARCHAR);
-- the send time of each candidate of an experiment with slots (pipeline/experiments/timing.py)
CREATE OR REPLACE TEMP TABLE _send_at (customer_id VARCHAR, experiment VARCHAR, send_at TIMESTAMP);
