-- Each KPI's last plot (a Markdown image) and the digest of what it was drawn from
-- (pipeline.core.plots.Figures): the next run draws it again only when that changed.
CREATE TABLE IF NOT EXISTS built_kpi_plots (
    kpi     VARCHAR PRIMARY KEY,
    digest  VARCHAR NOT NULL,
    plot    VARCHAR NOT NULL
);
