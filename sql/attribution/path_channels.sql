-- The channels of the touches read, in their order: paths.sql numbers them 0, 1, ... ($channels).
SELECT DISTINCT channel FROM _att_touches ORDER BY channel;
