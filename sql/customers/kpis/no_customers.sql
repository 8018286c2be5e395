-- There is no customer data set (yet): an empty stand-in, on this connection only, so that the
-- KPIs count no customer instead of failing.
CREATE OR REPLACE TEMP TABLE customers (customuid VARCHAR, _first_seen_at DATE);
