-- The experiment report is rebuilt whole on every run (dropped, so a new column comes with it).
DROP TABLE IF EXISTS experiment_report;
