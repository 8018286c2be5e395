-- One version's rows of an explanation table ({{table}}: model_feature_impact, model_beeswarm or
-- model_dependence) replaced by the rows of _frame ({{columns}}: its columns, quoted).
DELETE FROM {{table}} WHERE model = $model AND version = $version;
INSERT INTO {{table}} (model, version, {{columns}})
SELECT $model, $version, {{columns}} FROM _frame
