"""The response model: the probability that a customer has a qualifying event (buys, opens, ...)
within the label window."""

from __future__ import annotations

from pipeline.models.registry import register
from pipeline.models.types.binary import BinaryClassifier


@register
class Response(BinaryClassifier):
    name = "response"
