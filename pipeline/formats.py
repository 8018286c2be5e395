"""Date/time formats of declared fields: the user's notation (``mm/dd/yyyy``) to strptime codes."""

from __future__ import annotations

import re

# Epoch formats are not patterns: the value is a number of seconds / milliseconds since 1970.
EPOCH_FORMATS = {"unix": 1, "unix_s": 1, "unix_ms": 1000}

_TOKENS = [
    ("yyyy", "%Y"),
    ("yy", "%y"),
    ("dd", "%d"),
    ("hh", "%H"),
    ("HH", "%H"),
    ("ss", "%S"),
    ("SSS", "%g"),
    ("mm", None),  # month, or minutes right after an hour token
]
_TOKEN_RE = re.compile("|".join(re.escape(t) for t, _ in sorted(_TOKENS, key=lambda t: -len(t[0]))))
_CODES = dict(_TOKENS)


class FormatError(ValueError):
    """A date/time format that Nightjar cannot read."""


def to_strptime(fmt: str) -> str:
    """Translate a field format to a strptime pattern.

    ``mm/dd/yyyy`` -> ``%m/%d/%Y``; ``yyyy-mm-dd hh:mm:ss`` -> ``%Y-%m-%d %H:%M:%S`` (``mm`` after
    an hour token means minutes). A format that already holds ``%`` codes is returned as is.
    """
    if "%" in fmt:
        return fmt
    out: list[str] = []
    pos = 0
    seen_hour = False
    found = False
    for m in _TOKEN_RE.finditer(fmt):
        out.append(fmt[pos : m.start()])
        token = m.group(0)
        if token == "mm":
            out.append("%M" if seen_hour else "%m")
        else:
            out.append(_CODES[token])
        seen_hour = seen_hour or token in ("hh", "HH")
        found = True
        pos = m.end()
    out.append(fmt[pos:])
    if not found:
        raise FormatError(
            f"unknown date/time format {fmt!r}: use tokens yyyy, mm, dd, hh, mm, ss "
            f"(e.g. mm/dd/yyyy, yyyy-mm-dd hh:mm:ss), unix, unix_ms, or a strftime pattern with % codes"
        )
    return "".join(out)


def check_format(fmt: str) -> None:
    """Raise FormatError when ``fmt`` is neither an epoch format nor a readable pattern."""
    if fmt in EPOCH_FORMATS:
        return
    to_strptime(fmt)
