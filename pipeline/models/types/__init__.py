"""The model types, one module each, registered by name (pipeline/models/registry.py).

Importing this package registers every type: add a type's module to the imports below. Their order
is the order the registry (and a config error naming the known types) lists them in.
"""

from __future__ import annotations

# isort: off
from pipeline.models.types import response as response
from pipeline.models.types import churn as churn
from pipeline.models.types import recommender as recommender
from pipeline.models.types import clv as clv

# isort: on
from pipeline.models import registry
from pipeline.models.types.base import ModelType, Prepared


def model_type(name: str) -> ModelType:
    """The registered record of a model type (KeyError names the registered ones)."""
    kind: ModelType = registry.get(name)
    return kind


__all__ = ["ModelType", "Prepared", "model_type", "response", "churn", "recommender", "clv"]
