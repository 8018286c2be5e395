-- Empty the periods of KPI table <table> that an update recomputes: those of each grain from the
-- one holding $since on (all of them for a full rebuild), in the update's transaction.
DELETE FROM {{table}}
WHERE period_start >= CAST(date_trunc(grain, $since) AS DATE);
