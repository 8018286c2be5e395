-- The experiment report's plot $plot as last drawn, if it was drawn from the rows of digest $digest.
SELECT markdown FROM built_experiment_plots WHERE plot = $plot AND digest = $digest;
