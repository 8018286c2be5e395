-- The experiment report's last plots (Markdown images) and the digest of what each was drawn from
-- (pipeline.core.plots.figure_digest): the next run draws a plot again only when that changed.
CREATE TABLE IF NOT EXISTS built_experiment_plots (
    plot VARCHAR PRIMARY KEY,
    digest VARCHAR NOT NULL,
    markdown VARCHAR NOT NULL
);
