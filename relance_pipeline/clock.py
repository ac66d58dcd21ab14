"""The only reader of the clock: today's date where the creditor lives."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FALLBACK_TIMEZONE = "Europe/Paris"
"""Where "today" is when relance.yaml names no time zone it knows (validate reports it): the scaffold's zone."""


def zone(timezone: str | None) -> ZoneInfo:
    """The time zone named, else the fallback."""
    try:
        return ZoneInfo(timezone or FALLBACK_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(FALLBACK_TIMEZONE)


def today_in(timezone: str | None) -> date:
    return datetime.now(zone(timezone)).date()


def is_known_timezone(timezone: str) -> bool:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def now_in(timezone: str | None) -> datetime:
    """The moment, where the creditor lives: the Date of an email is the time it is sent."""
    return datetime.now(zone(timezone)).replace(microsecond=0)
