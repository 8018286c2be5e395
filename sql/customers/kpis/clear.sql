-- Empty a KPI table (`table`) before its rebuild, in the rebuild's transaction.
DELETE FROM {{table}};
