"""The attribution model types, each registered by its module (see :mod:`.registry`).

A new type is one new module here that calls :func:`.registry.register`, imported below. The
import order is the registration order: the order the config's error lists the types in.
"""

from pipeline.attribution.types import rule_based  # isort: split

from pipeline.attribution.types import markov  # isort: split

from pipeline.attribution.types import shapley

__all__ = ["markov", "rule_based", "shapley"]
