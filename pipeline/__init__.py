# pipeline.config and pipeline.rules import each other (config's rule-holding models use rules.Rule;
# rules uses config's FieldType); importing config first makes either import order work.
import pipeline.config  # noqa: F401
