"""CSV export of people, streamed: 100k rows go out in chunks, never held in memory at once."""

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

from django.db.models import Prefetch, QuerySet

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, ensure
from rapport.candidates.models import Candidate, CandidateEmail, CandidatePhone, CandidateTag
from rapport.candidates.selectors import candidates_visible_to
from rapport.timeline.services import audit_record

EXPORT_CHUNK = 2000
EXPORT_COLUMNS = [
    "id",
    "first_name",
    "last_name",
    "emails",
    "phones",
    "headline",
    "current_title",
    "current_company",
    "city",
    "region",
    "country",
    "skills",
    "tags",
    "links",
    "source",
    "owner_email",
    "relationship_status",
    "created_at",
    "updated_at",
]
# Digits and phone punctuation cannot form a formula that does harm; "+44 20 …; +1 415 …" stays readable.
_NUMBER = re.compile(r"^[+-]?[\d\s().;,+-]+$")


def spreadsheet_safe(value: str) -> str:
    """Neutralise text a spreadsheet would run as a formula (CSV injection), but keep "+4930…" phone numbers."""
    if value and (value[0] in "=@\t\r" or (value[0] in "+-" and not _NUMBER.match(value))):
        return "'" + value
    return value


class _LineWriter:
    """csv.writer that hands back each line instead of writing it, so rows can be yielded one by one."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)

    def line(self, values: list[Any]) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(values)
        return self._buffer.getvalue()


def _row(candidate: Candidate) -> list[str]:
    owner = candidate.owner
    return [
        str(candidate.pk),
        *(
            spreadsheet_safe(value)
            for value in (
                candidate.first_name,
                candidate.last_name,
                "; ".join(e.email for e in candidate.emails.all()),
                "; ".join(p.phone for p in candidate.phones.all()),
                candidate.headline,
                candidate.current_title,
                candidate.current_company,
                candidate.city,
                candidate.region,
                candidate.country,
                "; ".join(candidate.skills or []),
                "; ".join(ct.tag.name for ct in candidate.candidate_tags.all()),
                " ".join(candidate.links or []),
                candidate.source,
                owner.email if owner else "",
            )
        ),
        candidate.relationship_status,
        candidate.created_at.isoformat(),
        candidate.updated_at.isoformat(),
    ]


def export_candidates_csv(
    *, actor: User | None, candidates: QuerySet[Candidate], filters: dict[str, Any] | None = None
) -> Iterator[str]:
    """CSV lines (the header, then one per person) for `candidates`, limited to what `actor` may see.

    Checks the role and records who exported what before the first line, so a refused export yields nothing and
    every export is on the audit log even if the download is abandoned. `actor` None is the command line.
    """
    if actor is not None:
        ensure(actor, Capability.EXPORT)
        candidates = candidates & candidates_visible_to(actor)
    else:
        candidates = candidates.filter(erased_at__isnull=True)
    candidates = candidates.order_by("pk")
    count = candidates.count()
    audit_record(
        actor=actor,
        action="export",
        object_type="candidate",
        changes={"count": count, "format": "csv", "filters": filters or {}},
    )
    return _lines(candidates)


def _lines(candidates: QuerySet[Candidate]) -> Iterator[str]:
    writer = _LineWriter()
    yield writer.line(EXPORT_COLUMNS)
    rows = (
        candidates.select_related("owner")
        .prefetch_related(
            Prefetch("emails", queryset=CandidateEmail.objects.order_by("position", "id")),
            Prefetch("phones", queryset=CandidatePhone.objects.order_by("position", "id")),
            Prefetch("candidate_tags", queryset=CandidateTag.objects.select_related("tag").order_by("tag__name")),
        )
        .iterator(chunk_size=EXPORT_CHUNK)
    )
    for candidate in rows:
        yield writer.line(_row(candidate))
