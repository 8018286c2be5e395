-- Keep the experiment report's plot $plot and the digest of what it was drawn from (replacing its last).
INSERT OR REPLACE INTO built_experiment_plots (plot, digest, markdown) VALUES ($plot, $digest, $markdown);
