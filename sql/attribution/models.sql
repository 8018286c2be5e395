-- The day's models (built-ins, then the config's), by name and type: unattributed.sql credits
-- each a conversion none of its touches explains.
CREATE OR REPLACE TEMP TABLE _att_models AS
SELECT unnest($name::VARCHAR []) AS model, unnest($type::VARCHAR []) AS model_type;
