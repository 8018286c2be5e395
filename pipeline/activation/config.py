"""The activation domain's settings: everything upstream, seen by exports and the read side.

Activation declares no keys of its own yet; it composes the two branches of the data flow
(experiments and attribution) that it hands on.
"""

from __future__ import annotations

from pipeline.attribution.config import AttributionConfig
from pipeline.experiments.config import ExperimentsConfig


class ActivationConfig(ExperimentsConfig, AttributionConfig):
    """The settings of every domain up to activation."""
