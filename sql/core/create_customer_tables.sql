-- The registry of customer-keyed tables: which column of which table holds a customer's id or one
-- of their identifiers. Every writer of a customer-keyed table registers it (register_customer_table),
-- so that `nightjar forget` reaches it. key_kind: customer_id, or an identifier kind (customuid,
-- emailsha256, idfa, dmpid).
CREATE TABLE IF NOT EXISTS customer_tables (
    table_name  VARCHAR NOT NULL,
    column_name VARCHAR NOT NULL,
    key_kind    VARCHAR NOT NULL,
    PRIMARY KEY (table_name, column_name, key_kind)
);
