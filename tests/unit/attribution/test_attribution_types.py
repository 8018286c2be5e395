"""The model-type registry: every type the config accepts is registered with its parameters."""

from __future__ import annotations

import pytest

from pipeline.attribution.config import AttributionModelSpec
from pipeline.attribution.types.registry import DataDriven, RuleBased, model_type, names, parameters, register


def test_the_registered_types_in_their_order():
    assert names() == ("first", "last", "spread", "position", "time_decay", "markov", "shapley")
    assert [n for n in names() if isinstance(model_type(n), RuleBased)] == list(names()[:5])
    assert [n for n in names() if isinstance(model_type(n), DataDriven)] == ["markov", "shapley"]


def test_each_parameter_is_a_key_of_a_custom_model_owned_by_its_type():
    owners = {key: types for key, (_, types) in parameters().items()}
    assert owners == {
        "firstWeight": ("spread",),
        "lastWeight": ("spread",),
        "firstShare": ("position",),
        "lastShare": ("position",),
        "halfLifeDays": ("time_decay",),
        "order": ("markov",),
        "allocation": ("markov",),
        "maxExactChannels": ("shapley",),
        "samples": ("shapley",),
        "seed": ("shapley",),
    }
    assert set(owners) <= set(AttributionModelSpec.model_fields)


def test_a_type_is_registered_once():
    with pytest.raises(ValueError, match="registered twice"):
        register(RuleBased(name="first", weight=lambda p: "1.0", total=lambda p: "1.0"))
