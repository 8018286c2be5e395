-- Keep a KPI's plot and the digest of what it was drawn from (replacing its last one).
INSERT OR REPLACE INTO built_kpi_plots (kpi, digest, plot) VALUES ($kpi, $digest, $plot);
