"""The model-type registry: each type module registers itself, and the config reads the registry."""

from __future__ import annotations

import pytest

from pipeline.core.settings import ConfigError
from pipeline.models import registry
from pipeline.models.types import ModelType, model_type
from pipeline.models.types.binary import BinaryClassifier
from tests.conftest import make_config


def test_every_type_module_registers_its_type_in_import_order():
    assert registry.names() == ("response", "churn", "recommender", "clv")
    assert all(isinstance(model_type(name), ModelType) for name in registry.names())
    assert isinstance(model_type("churn"), BinaryClassifier) and model_type("churn").inverted
    assert not model_type("response").inverted
    with pytest.raises(KeyError, match="no model type 'uplift'"):
        model_type("uplift")


def test_a_type_is_registered_once_and_needs_a_name():
    with pytest.raises(ValueError, match="'response' is registered twice"):

        @registry.register
        class Again(BinaryClassifier):
            name = "response"

    with pytest.raises(TypeError, match="needs a name"):
        registry.register(type("Nameless", (), {}))
    assert registry.names() == ("response", "churn", "recommender", "clv")


@pytest.mark.parametrize("value", ["uplift", 3, None, ["response"]])
def test_an_unknown_type_is_a_config_error_listing_the_registered_ones(tmp_path, value):
    with pytest.raises(ConfigError) as e:
        make_config(
            tmp_path, models=[{"name": "m", "type": value, "label": {"rules": [{"transaction": "pos"}]}}]
        )
    assert e.value.problems == [
        ("models[0].type", "Input should be 'response', 'churn', 'recommender' or 'clv'")
    ]


def test_the_choices_read_as_pydantic_lists_a_literal():
    assert registry.expected(("a",)) == "'a'"
    assert registry.expected(("a", "b")) == "'a' or 'b'"
    assert registry.expected(("a", "b", "c")) == "'a', 'b' or 'c'"
