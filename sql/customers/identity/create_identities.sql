-- Which identifier of which dataset points at which customer (rebuilt by the customer_identities asset).
CREATE TABLE IF NOT EXISTS customer_identities (
    customer_id VARCHAR NOT NULL,  -- the customuid of the customer record
    kind        VARCHAR NOT NULL,  -- customuid, emailsha256, idfa, dmpid
    value       VARCHAR NOT NULL,  -- as compared (lower-cased unless identity.case_sensitive)
    dataset     VARCHAR NOT NULL,  -- 'customers', or the transaction whose rows hold it
    conflict    BOOLEAN NOT NULL,  -- the identifier points at more than one customer
    excluded    BOOLEAN NOT NULL   -- the customer is dropped by an exclusion filter
);
