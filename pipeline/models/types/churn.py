"""The churn model: the probability that a customer has NO qualifying event within the label window
(the label of the response model, inverted)."""

from __future__ import annotations

from pipeline.models.registry import register
from pipeline.models.types.binary import BinaryClassifier


@register
class Churn(BinaryClassifier):
    name = "churn"
    inverted = True
