"""Reads for the FAQ: scoped lookups for the workspace, and the cached BM25 index the assistant ranks with."""

from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, QuerySet

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, can
from rapport.api.schemas import parse_id
from rapport.common.errors import NotFound
from rapport.faq.models import FaqEntry, UnansweredQuestion
from rapport.faq.ranking import CONFIDENCE_THRESHOLD, Index, build_index, rank

INDEX_CACHE_PREFIX = "rapport:faq:index:"
INDEX_CACHE_SECONDS = 24 * 3600
RELATED_SHOWN = 2


def faq_entries_visible_to(user: User) -> QuerySet[FaqEntry]:
    """The knowledge base is kept by admins and recruiters; other roles see none of it in the workspace."""
    if not can(user, Capability.MANAGE_TEMPLATES):
        return FaqEntry.objects.none()
    return FaqEntry.objects.select_related("job")


def faq_entry_get_for_user(*, user: User, entry_id: Any) -> FaqEntry:
    try:
        pk = parse_id(entry_id)
    except (TypeError, ValueError):
        raise NotFound("No such FAQ entry.")
    entry = faq_entries_visible_to(user).filter(pk=pk).first()
    if entry is None:
        raise NotFound("No such FAQ entry.")
    return entry


def unanswered_visible_to(user: User) -> QuerySet[UnansweredQuestion]:
    if not can(user, Capability.MANAGE_TEMPLATES):
        return UnansweredQuestion.objects.none()
    return UnansweredQuestion.objects.all()


def unanswered_open(*, user: User) -> QuerySet[UnansweredQuestion]:
    return unanswered_visible_to(user).filter(resolved_at__isnull=True).order_by("-last_asked_at", "-id")


def unanswered_get_for_user(*, user: User, question_id: Any) -> UnansweredQuestion:
    try:
        pk = parse_id(question_id)
    except (TypeError, ValueError):
        raise NotFound("No such question.")
    item = unanswered_visible_to(user).filter(pk=pk).first()
    if item is None:
        raise NotFound("No such question.")
    return item


# --- the index ------------------------------------------------------------------------------------------------------


def _published() -> QuerySet[FaqEntry]:
    return FaqEntry.objects.filter(published=True)


def index_cache_key() -> str:
    """A key that changes with every change to the published entries (count, latest edit, highest id).

    Writes delete the cached index explicitly too (`faq_index_invalidate`); the fingerprint also covers changes
    made outside the services (a data migration, the Django admin) and a cache shared by several processes.
    """
    stats = _published().aggregate(n=Count("id"), changed=Max("updated_at"), top=Max("id"))
    changed = stats["changed"].timestamp() if stats["changed"] else 0
    return f"{INDEX_CACHE_PREFIX}{stats['n']}:{stats['top'] or 0}:{changed}"


def faq_index() -> Index:
    key = index_cache_key()
    index = cache.get(key)
    if index is None:
        entries = list(_published().values("id", "question", "answer", "job_id", "department"))
        index = build_index(entries)
        cache.set(key, index, INDEX_CACHE_SECONDS)
    return index


@dataclass(frozen=True)
class Suggestion:
    entry: FaqEntry
    confidence: float


@dataclass(frozen=True)
class FaqAnswer:
    question: str
    best: Suggestion | None
    related: list[Suggestion]

    @property
    def confident(self) -> bool:
        return self.best is not None


def faq_search(*, question: str, job_ids: set[int] | None = None, departments: set[str] | None = None) -> FaqAnswer:
    """The best published entry when its confidence reaches the threshold, plus up to two more that do."""
    hits = rank(faq_index(), question, job_ids=job_ids, departments=departments)
    confident = [hit for hit in hits if hit.confidence >= CONFIDENCE_THRESHOLD][: 1 + RELATED_SHOWN]
    entries = _published().in_bulk([hit.id for hit in confident])
    suggestions = [
        Suggestion(entry=entries[hit.id], confidence=hit.confidence) for hit in confident if hit.id in entries
    ]
    if not suggestions:
        return FaqAnswer(question=question, best=None, related=[])
    return FaqAnswer(question=question, best=suggestions[0], related=suggestions[1:])
