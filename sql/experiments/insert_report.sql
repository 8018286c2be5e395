-- The report rows computed in Python (registered as _report_rows, in the table's column order).
INSERT INTO experiment_report
SELECT * FROM _report_rows;
