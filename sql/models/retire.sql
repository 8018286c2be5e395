-- Roll back: the version in use is RETIRED with a reason.
UPDATE model_trainings SET status = 'RETIRED', reason = $reason WHERE model = $model AND version = $version;
