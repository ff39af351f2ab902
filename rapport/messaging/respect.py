"""Respecting the person at send time: quiet hours in their own time zone and the frequency cap, as plain time math.

The outbox worker asks these before sending a bulk or automated message; a message they hold back is deferred to
the time they return, never dropped. One-to-one messages from a recruiter are exempt.
"""

import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache

from django.conf import settings

FREQUENCY_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Hold:
    until: datetime
    reason: str


def person_zone(name: str | None) -> zoneinfo.ZoneInfo:
    """The person's own time zone, or the installation's default when theirs is unset or unknown."""
    return _zone(name or "", settings.RAPPORT_DEFAULT_TIMEZONE or "")


@lru_cache(maxsize=1024)
def _zone(name: str, default: str) -> zoneinfo.ZoneInfo:
    # ZoneInfo keeps only the last few zones it built; a batch of people across the world would read the zone
    # files again and again.
    for candidate in (name, default):
        if candidate:
            try:
                return zoneinfo.ZoneInfo(candidate)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
    return zoneinfo.ZoneInfo("UTC")


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


Hours = tuple[int, int]  # (start, end) in minutes after midnight, local time


def quiet_hours_label(hours: Hours | None = None) -> str:
    hours = hours or settings.RAPPORT_QUIET_HOURS
    return f"{_clock(hours[0])}–{_clock(hours[1])}" if hours else ""


def quiet_until(*, at: datetime, zone: zoneinfo.ZoneInfo, hours: Hours | None = None) -> datetime | None:
    """When quiet hours end for someone in `zone`, if `at` falls inside them; else None.

    `hours` are the person's own quiet hours (set in the portal); without them the installation's apply.
    """
    hours = hours or settings.RAPPORT_QUIET_HOURS
    if hours is None:
        return None
    start, end = hours
    local = at.astimezone(zone)
    minute = local.hour * 60 + local.minute
    end_day = local.date()
    if start < end:
        inside = start <= minute < end
    else:
        # The usual case: the quiet night spans midnight, so after the start it ends tomorrow morning.
        inside = minute >= start or minute < end
        if minute >= start:
            end_day += timedelta(days=1)
    if not inside:
        return None
    return datetime.combine(end_day, time(end // 60, end % 60), tzinfo=zone).astimezone(UTC)


def cap_frees_at(*, sent: Sequence[datetime], cap: int) -> datetime | None:
    """When the person drops below `cap` sends in the rolling window, given their recent send times; None if below.

    `sent` holds only sends inside the window ending now. With the k oldest leaving the window one by one, room
    for one more appears when the (len - cap + 1)-th oldest is a full window old.
    """
    if cap <= 0 or len(sent) < cap:
        return None
    ordered = sorted(sent)
    return ordered[len(ordered) - cap] + FREQUENCY_WINDOW


def effective_cap(installation: int, personal: int | None) -> int:
    """The weekly cap that holds for one person: the stricter of the two, where 0 means none at all."""
    if personal is None or personal <= 0:
        return installation
    return personal if installation <= 0 else min(installation, personal)


def hold_for(
    *,
    now: datetime,
    zone: zoneinfo.ZoneInfo,
    recent_sends: Sequence[datetime],
    hours: Hours | None = None,
    personal_cap: int | None = None,
) -> Hold | None:
    """Whether a bulk or automated message to this person must wait, and until when; None means send now.

    `personal_cap` is the most the person asked for a week (in the portal); the stricter of it and the
    installation's cap applies.
    """
    quiet = quiet_until(at=now, zone=zone, hours=hours)
    if quiet is not None:
        local_end = quiet.astimezone(zone)
        return Hold(
            quiet,
            f"Quiet hours ({quiet_hours_label(hours)} in {zone.key}): held until {local_end:%H:%M} their time.",
        )
    cap = effective_cap(settings.RAPPORT_FREQUENCY_CAP, personal_cap)
    frees = cap_frees_at(sent=recent_sends, cap=cap)
    if frees is None:
        return None
    # When room frees up in the person's night, the message waits for their morning instead.
    until = quiet_until(at=frees, zone=zone, hours=hours) or frees
    return Hold(
        until,
        f"Frequency cap ({cap} bulk or automated message{'s' if cap != 1 else ''} per 7 days"
        f"{', as they asked' if personal_cap is not None and cap == personal_cap else ''}): held until "
        f"{until.astimezone(zone):%Y-%m-%d %H:%M} their time.",
    )
