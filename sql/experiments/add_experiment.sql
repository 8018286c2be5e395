-- One experiment decided tonight, with its settings (see prepare_decisions.sql).
INSERT INTO _exp VALUES ($experiment, $experiment_group, $control_share, $exploration, $weighted, $policy);
