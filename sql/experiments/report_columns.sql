-- The columns of the experiment report, in table order (no rows).
SELECT * FROM experiment_report LIMIT 0;
