"""Engagement: how much a person has responded lately, as points that fade with a half-life.

Every engagement event (an email opened, a link clicked, a reply, a portal visit) adds points. Points lose half their
weight every `RAPPORT_ENGAGEMENT_HALF_LIFE_DAYS`, so an open a month ago counts half as much as one today. A person
stores the decayed sum (`engagement_raw`) as of `engagement_at`; the value now is
`raw * 0.5 ** (age / half_life)`. The list, the kanban, sorting, filters and the API read `engagement_score`, a
readable 0-100 number mapped from the value with a saturating curve, `100 * (1 - exp(-value / 10))`: one reply today
scores 39, a handful of replies and clicks nears 100, and nothing recent fades back towards 0. Events keep the score
current as they happen; a daily pass (`candidate_engagement_decay_all`) lowers the scores of people who went quiet.
"""

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rapport.candidates.models import Candidate

ENGAGEMENT_OPEN_POINTS = 1.0
ENGAGEMENT_CLICK_POINTS = 3.0
ENGAGEMENT_REPLY_POINTS = 5.0
ENGAGEMENT_PORTAL_VISIT_POINTS = 2.0
# The curve's scale: a value of 10 (two replies today) scores 63, 30 scores 95.
SCORE_SCALE = 10.0
SCORE_MAX = 100
# The raw value a stored score of 100 converts to: any value at or above it scores 100.
_FULL_SCORE_REMAINDER = 0.004
DECAY_BATCH = 2000


def half_life() -> timedelta:
    return timedelta(days=settings.RAPPORT_ENGAGEMENT_HALF_LIFE_DAYS)


def engagement_decayed(raw: float, *, since: datetime | None, now: datetime) -> float:
    """The value `raw` (as of `since`) has at `now`; a time before `since` makes it larger, as it was then."""
    if raw <= 0 or since is None:
        return max(raw, 0.0)
    age = (now - since) / half_life()
    return raw * 0.5**age


def engagement_score_from_raw(raw: float) -> int:
    """The 0-100 score shown for a value: saturating, so it never exceeds 100 however much a person engages."""
    if raw <= 0:
        return 0
    score = SCORE_MAX * (1 - math.exp(-raw / SCORE_SCALE))
    # Half up rather than Python's half-to-even, so equal values always show the same number.
    return min(SCORE_MAX, int(score + 0.5))


def engagement_raw_from_score(score: int) -> float:
    """The value that shows as `score`: how a score stored before decay existed is carried over unchanged."""
    if score <= 0:
        return 0.0
    remainder = max(1 - min(score, SCORE_MAX) / SCORE_MAX, _FULL_SCORE_REMAINDER)
    return -SCORE_SCALE * math.log(remainder)


def _current_raw(raw: float, at: datetime | None, score: int, now: datetime) -> float:
    if at is None:
        # A score written without decay (older data, a bulk seed): take it as the value now.
        return engagement_raw_from_score(score) if raw <= 0 else raw
    return engagement_decayed(raw, since=at, now=now)


@transaction.atomic
def candidate_engagement_add(*, candidate_id: int, points: float, at: datetime | None = None) -> int:
    """Add an event's points to a person's engagement; returns the new score (0 when there is no such person).

    `at` is when the event happened (a reply fetched late keeps its own time); it defaults to now. The row is
    locked while read and written, so two events at once both count.
    """
    now = timezone.now()
    at = at or now
    row = (
        Candidate.objects.select_for_update()
        .filter(pk=candidate_id)
        .values_list("engagement_raw", "engagement_at", "engagement_score")
        .first()
    )
    if row is None:
        return 0
    raw, stored_at, score = row
    current = _current_raw(raw, stored_at, score, now)
    # Points earned earlier (a reply fetched late) have already faded by now, as if they had been added then.
    current += max(points, 0.0) * 0.5 ** max((now - at) / half_life(), 0.0)
    new_score = engagement_score_from_raw(current)
    Candidate.objects.filter(pk=candidate_id).update(
        engagement_raw=current, engagement_at=now, engagement_score=new_score
    )
    return new_score


def engagement_keep_higher(*, survivor: Candidate, merged: Candidate, now: datetime | None = None) -> None:
    """On a merge, the survivor keeps whichever record was more engaged now (set on the instance, not saved)."""
    now = now or timezone.now()
    values = [_current_raw(c.engagement_raw, c.engagement_at, c.engagement_score, now) for c in (survivor, merged)]
    best = max(values)
    survivor.engagement_raw = best
    survivor.engagement_at = now
    survivor.engagement_score = engagement_score_from_raw(best)


def candidate_engagement_decay_all(*, now: datetime | None = None, batch: int = DECAY_BATCH) -> int:
    """Bring every non-zero score down to what its decayed value shows now; returns how many scores changed.

    People are read in id batches; each batch is one UPDATE of the rows that changed, under a row lock (the
    transaction on SQLite), so an event arriving meanwhile is never overwritten by a stale value.
    """
    now = now or timezone.now()
    changed_total = 0
    last_id = 0
    while True:
        with transaction.atomic():
            rows = list(
                Candidate.objects.select_for_update()
                .filter(pk__gt=last_id, engagement_score__gt=0)
                .order_by("pk")
                .only("pk", "engagement_raw", "engagement_at", "engagement_score")[:batch]
            )
            if not rows:
                return changed_total
            last_id = rows[-1].pk
            changed = []
            for row in rows:
                current = _current_raw(row.engagement_raw, row.engagement_at, row.engagement_score, now)
                score = engagement_score_from_raw(current)
                if score != row.engagement_score or row.engagement_at is None:
                    row.engagement_raw, row.engagement_at, row.engagement_score = current, now, score
                    changed.append(row)
            if changed:
                Candidate.objects.bulk_update(
                    changed, ["engagement_raw", "engagement_at", "engagement_score"], batch_size=batch
                )
            changed_total += len(changed)
