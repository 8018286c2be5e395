-- Record what KPI $kpi is now built from (_kpi_fp), in its update's transaction.
DELETE FROM built_kpis WHERE kpi = $kpi;
INSERT INTO built_kpis (kpi, source, day, rows, fingerprint)
SELECT $kpi, source, day, rows, fingerprint FROM _kpi_fp;
