-- Whether an experiment has decisions in the snapshot.
SELECT experiment FROM results WHERE experiment = $experiment LIMIT 1
