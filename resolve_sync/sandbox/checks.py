"""Strict checks for settings sent to the sandbox (fixture sections and admin payloads).

Each check returns the value in the type the sandbox stores, or raises PayloadError naming the field, the
value and what is allowed, so a bad value is refused before it is stored (never stored, then failing
every later request).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any


class PayloadError(ValueError):
    """A setting the sandbox refuses; the message names the field and what it accepts."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def settings_object(payload: Any, where: str, allowed: Iterable[str]) -> Mapping[str, Any]:
    """A JSON object with only known keys."""
    allowed = tuple(allowed)
    if not isinstance(payload, dict):
        raise PayloadError(f"{where} must be a JSON object with keys among {', '.join(allowed)}.")
    unknown = [key for key in payload if key not in allowed]
    if unknown:
        raise PayloadError(f"{where}: unknown key {_shown(unknown[0])}; the keys are {', '.join(allowed)}.")
    return payload


def number(payload: Mapping[str, Any], key: str, where: str, *, low: float, high: float) -> float:
    """A finite JSON number (not a string, not a boolean) within [low, high]."""
    value = payload[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(f"{where}.{key} must be a number, got {_shown(value)}.")
    if not (math.isfinite(value) and low <= value <= high):
        raise PayloadError(f"{where}.{key} must be between {low:g} and {high:g}, got {_shown(value)}.")
    return float(value)


def integer(payload: Mapping[str, Any], key: str, where: str, *, low: int, high: int) -> int:
    """A JSON integer (not a float, string or boolean) within [low, high]."""
    value = payload[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(f"{where}.{key} must be an integer, got {_shown(value)}.")
    if not low <= value <= high:
        raise PayloadError(f"{where}.{key} must be between {low} and {high}, got {_shown(value)}.")
    return value
