"""The rule-based model types: a touch's weight by where it stands of the conversion's ``n`` touches
(``pos``: 1 the first, ``n`` the last, 2 those between) or by its age.

Each type gives its weight and the sum of the weights of the conversion's touches (its total), so
share = weight / total. The totals of first / last / spread / position follow from ``n`` alone; time
decay sums its weights in time order (``ord``; the same bits every run), over the conversion's touches (its
number ``cix``: an integer to partition by rather than two strings). ``p`` maps a parameter's key to its
bound parameter (a DOUBLE).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from pipeline.attribution.types.registry import Parameter, RuleBased, register

MAX_WEIGHT = 1e6  # a spread weight's bound: two of them and the touches between stay far from overflow
MAX_HALF_LIFE_DAYS = 10_000.0  # far beyond the longest lookback (365 days)
WEIGHT = Annotated[float, Field(gt=0, le=MAX_WEIGHT, allow_inf_nan=False)]
HALF_LIFE = Annotated[float, Field(gt=0, le=MAX_HALF_LIFE_DAYS, allow_inf_nan=False)]
SHARE = Annotated[float, Field(ge=0, le=1)]
POSITION_SHARE = 0.4  # a position model's first and last share when not given

register(
    RuleBased(
        name="first",
        weight=lambda p: "CASE WHEN pos = 1 THEN 1.0 ELSE 0.0 END",
        total=lambda p: "1.0",
    )
)
register(
    RuleBased(
        name="last",
        weight=lambda p: "CASE WHEN pos = n THEN 1.0 ELSE 0.0 END",
        total=lambda p: "1.0",
    )
)


def _spread_weight(p: Mapping[str, str]) -> str:
    fw, lw = p["firstWeight"], p["lastWeight"]
    return f"CASE WHEN n = 1 THEN 1.0 WHEN pos = 1 THEN {fw} WHEN pos = n THEN {lw} ELSE 1.0 END"


def _spread_total(p: Mapping[str, str]) -> str:
    return f"CASE WHEN n = 1 THEN 1.0 ELSE {p['firstWeight']} + {p['lastWeight']} + (n - 2) END"


register(
    RuleBased(
        name="spread",
        parameters=(Parameter("firstWeight", 1.0, WEIGHT), Parameter("lastWeight", 1.0, WEIGHT)),
        weight=_spread_weight,
        total=_spread_total,
    )
)


def _position_weight(p: Mapping[str, str]) -> str:
    fs, ls = p["firstShare"], p["lastShare"]
    return (
        f"CASE WHEN n = 1 THEN 1.0 WHEN n = 2 THEN CASE WHEN pos = 1 THEN {fs} ELSE {ls} END "
        f"WHEN pos = 1 THEN {fs} WHEN pos = n THEN {ls} ELSE (1.0 - {fs} - {ls}) / (n - 2) END"
    )


def _position_total(p: Mapping[str, str]) -> str:
    fs, ls = p["firstShare"], p["lastShare"]
    return (
        f"CASE WHEN n = 1 THEN 1.0 WHEN n = 2 THEN {fs} + {ls} "
        f"ELSE {fs} + {ls} + (n - 2) * ((1.0 - {fs} - {ls}) / (n - 2)) END"
    )


def _position_check(values: Mapping[str, Any]) -> tuple[str, str] | None:
    """The middle touches share what the first and last leave (a share not given counts as its default,
    0.4; a share given as 0 counts as 0, as the credits read it)."""
    given = (values["firstShare"], values["lastShare"])
    shares = sum(POSITION_SHARE if share is None else share for share in given)
    if shares > 1 + 1e-12:
        return "lastShare", "firstShare + lastShare must be at most 1 (the middle touches share the rest)"
    if shares <= 0:
        return "lastShare", "firstShare + lastShare must be more than 0"
    return None


register(
    RuleBased(
        name="position",
        parameters=(
            Parameter("firstShare", POSITION_SHARE, SHARE),
            Parameter("lastShare", POSITION_SHARE, SHARE),
        ),
        check=_position_check,
        weight=_position_weight,
        total=_position_total,
    )
)


register(
    RuleBased(
        name="time_decay",
        parameters=(Parameter("halfLifeDays", 7.0, HALF_LIFE),),
        weight=lambda p: (
            f"pow(2.0, -(epoch(last_touched_at) - epoch(touched_at)) / 86400.0 / {p['halfLifeDays']})"
        ),
        total=lambda p: (
            "sum(weight) OVER (PARTITION BY cix ORDER BY ord "
            "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
        ),
    )
)
