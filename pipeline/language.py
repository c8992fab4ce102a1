"""Language codes: normalize what pages declare, detect from the text when they declare nothing."""

from __future__ import annotations

import re

_CODE = re.compile(r"^([a-zA-Z]{2})(?:[-_].*)?$")
_MIN_DETECT_CHARS = 40


def normalize_language(value: str | None) -> str | None:
    """``en-US`` -> ``en``; None for anything that is not an ISO 639-1 code."""
    if not value:
        return None
    match = _CODE.match(value.strip())
    return match[1].lower() if match else None


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of ``text``, or None when the text is too short to tell."""
    if len(text) < _MIN_DETECT_CHARS:
        return None
    from py3langid.langid import classify  # loads its model once, on first use

    code, _score = classify(text[:5000])
    return str(code) or None
