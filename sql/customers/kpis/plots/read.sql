-- A KPI's last plot by the digest of what it was drawn from.
SELECT digest, plot FROM built_kpi_plots WHERE kpi = $kpi;
