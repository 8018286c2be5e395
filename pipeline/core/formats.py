"""Date/time formats of declared fields: the user's notation (``mm/dd/yyyy``) to strptime codes."""

from __future__ import annotations

import re

# Epoch formats are not patterns: the value is a number of seconds / milliseconds since 1970.
EPOCH_FORMATS = {"unix": 1, "unix_ms": 1000}

_CODES = {"yyyy": "%Y", "yy": "%y", "dd": "%d", "hh": "%H", "HH": "%H", "ss": "%S", "SSS": "%g"}
# Longest first; a quoted literal ('T') is copied as is; `mm` is decided by the token before it.
_TOKEN_RE = re.compile(r"'[^']*'|yyyy|SSS|yy|dd|hh|HH|ss|mm")


class FormatError(ValueError):
    """A date/time format that Nightjar cannot read."""


def _unknown(fmt: str, why: str) -> FormatError:
    return FormatError(
        f"unknown date/time format {fmt!r} ({why}): use tokens yyyy, yy, mm, dd, hh, mm, ss, SSS and "
        f"separators (e.g. mm/dd/yyyy, yyyy-mm-dd hh:mm:ss, yyyy-mm-dd'T'hh:mm:ss), unix, unix_ms, "
        f"or a strftime pattern with % codes"
    )


def to_strptime(fmt: str) -> str:
    """Translate a field format to a strptime pattern.

    ``mm/dd/yyyy`` -> ``%m/%d/%Y``; ``yyyy-mm-dd hh:mm:ss`` -> ``%Y-%m-%d %H:%M:%S``: ``mm``
    right after an hour token means minutes, elsewhere the month. A format that already holds
    ``%`` codes is returned as is.
    """
    if "%" in fmt:
        return fmt
    out: list[str] = []
    pos, previous = 0, None
    for m in _TOKEN_RE.finditer(fmt):
        literal = fmt[pos : m.start()]
        if any(c.isalpha() for c in literal):
            raise _unknown(fmt, f"{literal!r} is not a token")
        out.append(literal)
        token = m.group(0)
        if token.startswith("'"):
            out.append(token[1:-1])
        elif token == "mm":
            out.append("%M" if previous in ("hh", "HH") else "%m")
        else:
            out.append(_CODES[token])
        previous = token
        pos = m.end()
    rest = fmt[pos:]
    if any(c.isalpha() for c in rest):
        raise _unknown(fmt, f"{rest!r} is not a token")
    out.append(rest)
    pattern = "".join(out)
    if not any(code in pattern for code in ("%Y", "%y")) or "%m" not in pattern or "%d" not in pattern:
        raise _unknown(fmt, "a date needs a year, a month and a day")
    return pattern


def check_format(fmt: str) -> None:
    """Raise FormatError when ``fmt`` is neither an epoch format nor a readable pattern."""
    if fmt in EPOCH_FORMATS:
        return
    to_strptime(fmt)
