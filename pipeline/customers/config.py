"""The customer 360's settings: identity resolution (matching, exclusions) and event retention."""

from __future__ import annotations

from typing import Literal, cast

from pydantic import Field, field_validator, model_validator

from pipeline.core.catalog import IDENTIFIER_KINDS, IdentifierKind
from pipeline.core.settings import Settings, at, identifier
from pipeline.ingest.config import IngestConfig

MAX_RETENTION_MONTHS = 1200


class ExclusionFilter(Settings):
    """Drop the customers whose property (a customer data column) matches, and all they did."""

    property: str
    op: Literal["STARTS_WITH", "CONTAINS", "EQUALS"]
    value: str

    @field_validator("property")
    @classmethod
    def _customer_column(cls, v: str) -> str:
        if v not in IDENTIFIER_KINDS and not v.startswith(("txt_", "num_", "attr_", "goal_")):
            raise ValueError(
                f"{v!r} is not a customer data column "
                "(customuid, emailsha256, idfa, dmpid, txt_*, num_*, attr_*, goal_*)"
            )
        return identifier(v, "property")


class IdentitySpec(Settings):
    """The matching policy: which identifiers join records into one customer, in priority order."""

    match_on: list[IdentifierKind] = Field(
        default_factory=lambda: cast(list[IdentifierKind], ["customuid", "emailsha256"]), min_length=1
    )
    case_sensitive: bool = False
    exclude: list[ExclusionFilter] = Field(default_factory=list)
    # a feed's key that no customer data knows: an anonymous event (customer_id NULL), or the key
    # itself as its customer_id (`own_id`; the default when the project declares no customer data)
    unknown_keys: Literal["anonymous", "own_id"] | None = None

    @field_validator("match_on")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"each identifier may appear once: {v}")
        return v


class CustomersConfig(IngestConfig):
    identity: IdentitySpec = IdentitySpec()
    # Months to keep the events of each type; types not listed are kept for ever.
    retention: dict[str, int] = Field(default_factory=dict)

    @property
    def keys_are_own_ids(self) -> bool:
        """Whether a key no customer data knows is its event's customer_id (``identity.unknown_keys``)."""
        if self.identity.unknown_keys is None:
            return self.customers is None
        return self.identity.unknown_keys == "own_id"

    @model_validator(mode="after")
    def _check_retention(self) -> CustomersConfig:
        for event_type, months in self.retention.items():
            if not 1 <= months <= MAX_RETENTION_MONTHS:
                raise at(
                    f"retention.{event_type}",
                    f"keep between 1 and {MAX_RETENTION_MONTHS} months (100 years), not {months}; "
                    "leave the type out to keep its events for ever",
                )
        return self
