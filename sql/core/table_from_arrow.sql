-- A temporary table copied from a registered Arrow table.
CREATE OR REPLACE TEMP TABLE {{table}} AS SELECT * FROM {{arrow}};
