-- The experiment report is rebuilt whole on every run.
DELETE FROM experiment_report;
