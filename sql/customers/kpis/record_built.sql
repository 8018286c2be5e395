-- Record what KPI $kpi is now built from (_kpi_fp), in its update's transaction.
DELETE FROM kpi_built WHERE kpi = $kpi;
INSERT INTO kpi_built (kpi, source, day, rows, fingerprint)
SELECT $kpi, source, day, rows, fingerprint FROM _kpi_fp;
