-- The working set of one `forget`: temp tables and helpers (connection-local, dropped afterwards).
CREATE OR REPLACE TEMP TABLE _forget_seeds (kind VARCHAR, value VARCHAR, given VARCHAR);   -- what was asked for
CREATE OR REPLACE TEMP TABLE _forget_found (customer_id VARCHAR, given VARCHAR);          -- customers it names
CREATE OR REPLACE TEMP TABLE _forget_ids (customer_id VARCHAR);                           -- the customers to forget
CREATE OR REPLACE TEMP TABLE _forget_values (kind VARCHAR, value VARCHAR);                -- their identifier values
CREATE OR REPLACE TEMP TABLE _forget_holders (kind VARCHAR, value VARCHAR, customer_id VARCHAR);
CREATE OR REPLACE TEMP TABLE _forget_excluded (customer_id VARCHAR);                      -- excluded customers

-- An identifier value as identity matching compares it (cs: identity.case_sensitive).
CREATE OR REPLACE TEMP MACRO _nj_norm(x, cs) AS CASE WHEN cs THEN trim(x) ELSE lower(trim(x)) END;
-- The values of a (possibly multi-value, "a,b") cell, each as compared.
CREATE OR REPLACE TEMP MACRO _nj_values(x, cs) AS
    list_filter(list_transform(string_split(x, ','), lambda v: _nj_norm(v, cs)), lambda v: v <> '');
-- Does a cell hold one of the forgotten values of the given kinds (one value of a multi-value cell, or the whole cell)?
CREATE OR REPLACE TEMP MACRO _nj_holds(x, kinds, cs) AS
    list_has_any(_nj_values(x, cs), (SELECT list(value) FROM _forget_values WHERE list_contains(kinds, kind)))
    OR _nj_norm(x, cs) IN (SELECT value FROM _forget_values WHERE list_contains(kinds, kind));
-- Is a cell the id of a forgotten customer?
CREATE OR REPLACE TEMP MACRO _nj_forgotten(x) AS CAST(x AS VARCHAR) IN (SELECT customer_id FROM _forget_ids);
