-- The export rows with a NULL stand-in for every column the export lacks ({{columns}}: `*` and,
-- generated from ga4.DEFAULTS, `NULL::VARCHAR AS "user_id"`, ...).
CREATE VIEW _ga4_raw AS SELECT {{columns}} FROM _ga4_in;
