-- The data-driven models' channel weights per day and channel set (day, model, channel_set, channel,
-- weight),
-- learnt in Python (the registered Arrow table _att_weights_arrow).
CREATE OR REPLACE TEMP TABLE _att_weights AS
SELECT * FROM _att_weights_arrow;
