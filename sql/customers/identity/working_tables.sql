-- The working set of one rebuild of customer_identities (connection-local temp tables).
CREATE OR REPLACE TEMP TABLE _ids (customer_id VARCHAR, kind VARCHAR, value VARCHAR, excluded BOOLEAN);
CREATE OR REPLACE TEMP TABLE _feed_ids (
    customer_id VARCHAR, kind VARCHAR, value VARCHAR, dataset VARCHAR, conflict BOOLEAN, excluded BOOLEAN
);
CREATE OR REPLACE TEMP TABLE _feed_keys (
    dataset VARCHAR, key VARCHAR, customer_id VARCHAR, kind VARCHAR, excluded BOOLEAN
);
