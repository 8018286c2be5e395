-- The customer whose id (`column` of `table`, a customer_id column) is exactly the one asked for.
INSERT INTO _forget_found
SELECT DISTINCT CAST({{column}} AS VARCHAR), 'customer_id' FROM {{table}} WHERE CAST({{column}} AS VARCHAR) = trim($who);
