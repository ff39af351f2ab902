"""Reads of people: every lookup is scoped to what the user may see (out of scope answers 404)."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils.dateparse import parse_date, parse_datetime

from rapport.accounts.models import Role, User
from rapport.candidates.models import (
    Candidate,
    CandidateEmail,
    CandidatePhone,
    CandidateTag,
    CustomFieldDefinition,
    ImportJob,
    PoolMembership,
    RelationshipStatus,
    Segment,
    TalentPool,
)
from rapport.candidates.normalise import (
    looks_like_email,
    looks_like_phone,
    normalise_email,
    normalise_phone,
    phone_query_digits,
)
from rapport.common.errors import ApplicationError, NotFound, ValidationFailed
from rapport.common.ids import parse_id
from rapport.common.pagination import clamp_limit, decode_cursor, encode_cursor
from rapport.search import backends as search_backend
from rapport.search.query import Or, Term
from rapport.search.query import parse as parse_query

FILTER_KEYS = {
    "q",
    "tag",
    "pool",
    "segment",
    "job",
    "stage",
    "status",
    "source",
    "owner",
    "country",
    "city",
    "updated_since",
    "created_after",
    "created_before",
    "engagement_min",
}
SORTS = {
    "recent": ("-id",),
    "updated": ("-updated_at", "-id"),
    "name": ("last_name", "first_name", "id"),
    "engagement": ("-engagement_score", "-id"),
}


def candidates_visible_to(user: User) -> QuerySet[Candidate]:
    """The people a user may see: everyone for admins and recruiters, a slice for other roles."""
    from rapport.pipeline.models import Application

    base = Candidate.objects.filter(erased_at__isnull=True)
    if not (user and user.is_authenticated and user.is_active):
        return base.none()
    if user.has_full_access:
        return base
    if user.role == Role.HIRING_MANAGER:
        return base.filter(Exists(Application.objects.filter(candidate=OuterRef("pk"), job__hiring_manager=user)))
    if user.role == Role.INTERVIEWER:
        return base.filter(Exists(Application.objects.filter(candidate=OuterRef("pk"), interviewers=user)))
    return base.none()


def _to_int(value: Any, field: str) -> int:
    try:
        return parse_id(value)
    except (TypeError, ValueError):
        raise ValidationFailed.single(field, f"{field} must be an id (a whole number).")


def candidate_get_for_user(*, user: User, candidate_id: Any) -> Candidate:
    try:
        pk = parse_id(candidate_id)
    except (TypeError, ValueError):
        raise NotFound("No such person.")
    candidate = candidates_visible_to(user).select_related("owner").filter(pk=pk).first()
    if candidate is None:
        raise NotFound("No such person.")
    return candidate


def candidate_detail_for_user(*, user: User, candidate_id: Any) -> Candidate:
    """One person with everything the profile shows, in a fixed number of queries."""
    from rapport.pipeline.models import Application

    candidate = candidate_get_for_user(user=user, candidate_id=candidate_id)
    from rapport.jobs.selectors import jobs_visible_to

    visible_jobs = jobs_visible_to(user)
    prefetch = [
        Prefetch("emails", queryset=CandidateEmail.objects.order_by("position", "id")),
        Prefetch("phones", queryset=CandidatePhone.objects.order_by("position", "id")),
        Prefetch("candidate_tags", queryset=CandidateTag.objects.select_related("tag").order_by("tag__name")),
        Prefetch("pool_memberships", queryset=PoolMembership.objects.select_related("pool", "added_by")),
        Prefetch(
            "applications",
            queryset=Application.objects.filter(job__in=visible_jobs)
            .select_related("job", "stage", "rejection_reason")
            .order_by("-created_at"),
        ),
        "attachments",
    ]
    from django.db.models import prefetch_related_objects

    prefetch_related_objects([candidate], *prefetch)
    return candidate


def _date_or_error(value: Any, field: str) -> datetime:
    """A filter bound as an aware datetime: a bare date means its midnight, a naive time the site's time zone."""
    from django.utils import timezone

    if isinstance(value, datetime | date):
        parsed = value
    else:
        text = str(value).strip()
        try:
            parsed = parse_datetime(text) or parse_date(text)
        except ValueError:  # well-formed but impossible, like 2026-02-30
            parsed = None
        if parsed is None:
            raise ValidationFailed.single(field, "Use a date like 2026-01-31 or a timestamp like 2026-01-31T09:00:00Z.")
    if not isinstance(parsed, datetime):
        parsed = datetime.combine(parsed, datetime.min.time())
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def clean_candidate_filters(raw: dict[str, Any], *, allow_segment: bool = True) -> dict[str, Any]:
    """Keep known, non-empty filters; reject values that cannot be right, naming the field."""
    cleaned: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in FILTER_KEYS:
            raise ValidationFailed.single(
                key, f"{key!r} is not a filter. Use one of: {', '.join(sorted(FILTER_KEYS))}."
            )
        if value in (None, "", []):
            continue
        if isinstance(value, list | tuple | dict | set):
            raise ValidationFailed.single(key, f"Give {key} one value, not a list.")
        if key == "segment" and not allow_segment:
            raise ValidationFailed.single("segment", "A segment cannot be defined by another segment.")
        if key == "status" and value not in RelationshipStatus.values:
            raise ValidationFailed.single("status", f"Choose one of: {', '.join(RelationshipStatus.values)}.")
        if key in {"pool", "segment", "job", "stage", "owner"}:
            _to_int(value, key)
        if key in {"updated_since", "created_after", "created_before"}:
            _date_or_error(value, key)
            value = str(value)
        if key == "q":
            parse_query(str(value))
        if key == "engagement_min":
            value = _engagement_min(value)
        cleaned[key] = value
    return cleaned


def _apply_filters(qs: QuerySet[Candidate], filters: dict[str, Any], *, user: User) -> QuerySet[Candidate]:
    from rapport.pipeline.models import Application

    if "tag" in filters:
        qs = qs.filter(Exists(CandidateTag.objects.filter(candidate=OuterRef("pk"), tag__name__iexact=filters["tag"])))
    if "pool" in filters:
        qs = qs.filter(
            Exists(PoolMembership.objects.filter(candidate=OuterRef("pk"), pool_id=parse_id(filters["pool"])))
        )
    if "job" in filters or "stage" in filters:
        applications = Application.objects.filter(candidate=OuterRef("pk"))
        if "job" in filters:
            applications = applications.filter(job_id=parse_id(filters["job"]))
        if "stage" in filters:
            applications = applications.filter(stage_id=parse_id(filters["stage"]))
        from rapport.jobs.selectors import jobs_visible_to

        applications = applications.filter(job__in=jobs_visible_to(user))
        qs = qs.filter(Exists(applications))
    if "status" in filters:
        qs = qs.filter(relationship_status=filters["status"])
    if "source" in filters:
        qs = qs.filter(source__iexact=filters["source"])
    if "owner" in filters:
        qs = qs.filter(owner_id=parse_id(filters["owner"]))
    if "country" in filters:
        qs = qs.filter(country=str(filters["country"]).upper())
    if "city" in filters:
        qs = qs.filter(city__iexact=filters["city"])
    if "updated_since" in filters:
        qs = qs.filter(updated_at__gte=_date_or_error(filters["updated_since"], "updated_since"))
    if "created_after" in filters:
        qs = qs.filter(created_at__gte=_date_or_error(filters["created_after"], "created_after"))
    if "created_before" in filters:
        qs = qs.filter(created_at__lt=_date_or_error(filters["created_before"], "created_before"))
    if "engagement_min" in filters:
        qs = qs.filter(engagement_score__gte=_engagement_min(filters["engagement_min"]))
    return qs


def _engagement_min(value: Any) -> int:
    """The lowest engagement score to list, a whole number from 0 to 100."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed.single("engagement_min", "Use a whole number from 0 to 100.")
    if not 0 <= number <= 100:
        raise ValidationFailed.single("engagement_min", "Use a whole number from 0 to 100.")
    return number


def _contact_match(text: str) -> int | None | bool:
    """An email or phone typed into search is an exact lookup: B-tree, microseconds, no ranking needed.

    Returns the candidate id, None when no one has it, or False when the text is not a contact point.
    """
    text = text.strip()
    if looks_like_email(text):
        try:
            email = normalise_email(text)
        except ValidationFailed:
            return False
        return CandidateEmail.objects.filter(email=email).values_list("candidate_id", flat=True).first()
    if looks_like_phone(text):
        try:
            phone = normalise_phone(text)
        except ValidationFailed:
            return False
        return CandidatePhone.objects.filter(phone=phone).values_list("candidate_id", flat=True).first()
    return False


@dataclass
class CandidatePage:
    items: list[Candidate]
    next_cursor: str | None
    total: int
    total_is_capped: bool = False
    ranked: bool = False


def _with_list_data(qs: QuerySet[Candidate]) -> list[Candidate]:
    """The people of `qs` (with their owner selected) with their emails, phones and tags, as a list page shows them.

    Each person's emails, phones and tags are read in one query per kind and kept as the person's prefetched
    rows, so `person.emails.all()` (and iterating, `|first` or `|length` in a template) reads them without a query.
    Django's `prefetch_related` would build a QuerySet per person and relation to hold the same rows: 150 of them
    for a page of 50, a third of the time it takes to load the page's people at 1M (docs/benchmarks.md).
    """
    people = list(qs)
    if not people:
        return people
    held: dict[int, dict[str, list]] = {}
    for person in people:
        person._prefetched_objects_cache = held[person.pk] = {"emails": [], "phones": [], "candidate_tags": []}
    ids = list(held)
    for email in CandidateEmail.objects.filter(candidate_id__in=ids).order_by("position", "id"):
        held[email.candidate_id]["emails"].append(email)
    for phone in CandidatePhone.objects.filter(candidate_id__in=ids).order_by("position", "id"):
        held[phone.candidate_id]["phones"].append(phone)
    for link in CandidateTag.objects.filter(candidate_id__in=ids).select_related("tag").order_by("id"):
        held[link.candidate_id]["candidate_tags"].append(link)
    return people


def candidate_list(
    *,
    user: User,
    filters: dict[str, Any],
    limit: int | None = None,
    cursor: str | None = None,
    sort: str = "recent",
    with_total: bool = True,
) -> CandidatePage:
    limit = clamp_limit(limit)
    filters = clean_candidate_filters(filters)
    if sort not in SORTS:
        raise ValidationFailed.single("sort", f"Sort by one of: {', '.join(SORTS)}.")
    if "segment" in filters:
        try:
            segment = segment_get_for_user(user=user, segment_id=filters.pop("segment"))
        except NotFound:
            raise NotFound("No such segment.", fields={"segment": ["No such segment."]})
        filters = {**segment.filters, **filters}

    scope = candidates_visible_to(user)
    filtered = _apply_filters(scope, {k: v for k, v in filters.items() if k != "q"}, user=user)
    query_text = str(filters.get("q") or "").strip()
    node = parse_query(query_text) if query_text else None

    if node is not None:
        contact = _contact_match(query_text)
        is_phone = looks_like_phone(query_text)
        if contact or (contact is None and not is_phone):
            items = _with_list_data(filtered.filter(pk=contact).select_related("owner")) if contact else []
            return CandidatePage(items=items, next_cursor=None, total=len(items), ranked=True)
        if is_phone:
            # No exact E.164 hit: the number was typed without its country ("030 1234567"), so look up its digits.
            # The words stay in too: "2026-01-31" looks like a phone but may be a date written in a note.
            node = Or((*(Term(words=(d,)) for d in phone_query_digits(query_text)), node))
        offset = _search_offset(cursor)
        # Erased people are never indexed, so for a full-access user with no other filter the index alone answers.
        unrestricted = _full_access(user) and all(k == "q" for k in filters)
        page = search_backend.search(
            node,
            scope=None if unrestricted else filtered,
            limit=limit + 1,
            offset=offset,
            country=str(filters.get("country") or ""),
            status=str(filters.get("status") or ""),
        )
        ids = page.ids[:limit]
        by_id = {c.pk: c for c in _with_list_data(Candidate.objects.filter(pk__in=ids).select_related("owner"))}
        items = [by_id[i] for i in ids if i in by_id]
        next_cursor = encode_cursor({"o": offset + limit}) if len(page.ids) > limit else None
        return CandidatePage(
            items=items,
            next_cursor=next_cursor,
            total=page.total,
            total_is_capped=page.total_is_capped,
            ranked=page.ranked,
        )

    order = SORTS[sort]
    qs = filtered.order_by(*order)
    position = decode_cursor(cursor)
    if position:
        qs = _after_keyset(qs, order, position)
    rows = _with_list_data(qs.select_related("owner")[: limit + 1])
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor({f.lstrip("-"): _cursor_value(getattr(last, f.lstrip("-"))) for f in order})
    total, capped = _capped_count(filtered) if with_total else (len(items), False)
    return CandidatePage(items=items, next_cursor=next_cursor, total=total, total_is_capped=capped)


def _search_offset(cursor: str | None) -> int:
    offset = (decode_cursor(cursor) or {}).get("o", 0)
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        from rapport.common.errors import BadRequest

        raise BadRequest("The cursor does not belong to a search.", fields={"cursor": ["Not a valid cursor."]})
    return offset


def _cursor_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _after_keyset(qs: QuerySet, order: tuple[str, ...], position: dict[str, Any]) -> QuerySet:
    from django.db.models import Q

    condition = Q()
    equal = Q()
    try:
        for field in order:
            name = field.lstrip("-")
            value = position[name]
            if name.endswith("_at") and value is not None:
                value = parse_datetime(value)
            lookup = "lt" if field.startswith("-") else "gt"
            condition |= equal & Q(**{f"{name}__{lookup}": value})
            equal &= Q(**{name: value})
    except KeyError:
        from rapport.common.errors import BadRequest

        raise BadRequest("The cursor does not match this sort order.", fields={"cursor": ["Not a valid cursor."]})
    return qs.filter(condition)


def _capped_count(qs: QuerySet) -> tuple[int, bool]:
    """Exact counts of big tables cost a full scan; past the cap we say "10,000+" like a search engine does."""
    cap = search_backend.COUNT_LIMIT
    n = qs.order_by().values("id")[: cap + 1].count()
    return min(n, cap), n > cap


def _full_access(user: User) -> bool:
    """Pools and segments are the whole-database tools of admins and recruiters who may still sign in."""
    return bool(user and user.is_authenticated and user.is_active and user.has_full_access)


def pools_list(*, user: User) -> QuerySet[TalentPool]:
    from django.db.models import Count

    if not _full_access(user):
        return TalentPool.objects.none()
    return TalentPool.objects.annotate(member_count=Count("memberships")).order_by("name")


def pool_get_for_user(*, user: User, pool_id: Any) -> TalentPool:
    try:
        return pools_list(user=user).get(pk=parse_id(pool_id))
    except (TalentPool.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such talent pool.")


def segments_list(*, user: User) -> QuerySet[Segment]:
    if not _full_access(user):
        return Segment.objects.none()
    return Segment.objects.all()


def segment_get_for_user(*, user: User, segment_id: Any) -> Segment:
    try:
        return segments_list(user=user).get(pk=parse_id(segment_id))
    except (Segment.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such segment.")


def candidate_by_contact(*, email: str | None = None, phone: str | None = None) -> Candidate | None:
    if email:
        row = CandidateEmail.objects.filter(email=email).select_related("candidate").first()
        if row:
            return row.candidate
    if phone:
        row = CandidatePhone.objects.filter(phone=phone).select_related("candidate").first()
        if row:
            return row.candidate
    return None


def pool_members(*, user: User, pool: TalentPool) -> QuerySet[PoolMembership]:
    """A pool's members as the user may see them, most recently added first, with who added them."""
    return (
        PoolMembership.objects.filter(pool=pool, candidate__in=candidates_visible_to(user))
        .select_related("candidate", "added_by")
        .order_by("-added_at", "-id")
    )


def pool_member_ids(*, pool: TalentPool, candidate_ids: list[int]) -> set[int]:
    return set(
        PoolMembership.objects.filter(pool=pool, candidate_id__in=candidate_ids).values_list("candidate_id", flat=True)
    )


def custom_field_definitions() -> QuerySet[CustomFieldDefinition]:
    return CustomFieldDefinition.objects.order_by("position", "id")


def custom_field_definition_get(*, definition_id: Any) -> CustomFieldDefinition:
    try:
        return CustomFieldDefinition.objects.get(pk=parse_id(definition_id))
    except (CustomFieldDefinition.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such custom field.")


def tag_names(*, limit: int = 500) -> list[str]:
    """Existing tag names, for suggestions in tag inputs and the tag filter."""
    from rapport.candidates.models import Tag

    return list(Tag.objects.order_by("name").values_list("name", flat=True)[:limit])


def attachment_get_for_candidate(*, candidate: Candidate, attachment_id: Any) -> Any:
    """An attachment of a person already looked up through candidate_get_for_user; another person's is 404."""
    from rapport.candidates.models import Attachment

    try:
        return Attachment.objects.get(pk=parse_id(attachment_id), candidate=candidate)
    except (Attachment.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such file.")


def import_jobs_visible_to(user: User) -> QuerySet[ImportJob]:
    """Imports are team work: whoever may import sees every import, newest first; other roles see none."""
    from rapport.accounts.permissions import Capability, can

    if not can(user, Capability.IMPORT):
        return ImportJob.objects.none()
    return ImportJob.objects.select_related("created_by").order_by("-created_at", "-id")


def import_job_get_for_user(*, user: User, job_id: Any) -> ImportJob:
    try:
        return import_jobs_visible_to(user).get(pk=parse_id(job_id))
    except (ImportJob.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such import.")


def pool_choices(*, user: User) -> QuerySet[TalentPool]:
    """Pools to offer in a menu: names only, without the member counts the pools page computes."""
    if not user.has_full_access:
        return TalentPool.objects.none()
    return TalentPool.objects.only("id", "name").order_by("name")


def candidate_picker(*, user: User, query: str, limit: int = 20) -> tuple[list[Candidate], str]:
    """People matching a picker's search box (add to job, add to pool); a bad query returns its message instead."""
    query = (query or "").strip()[:200]
    if not query:
        return [], ""
    try:
        return candidate_list(user=user, filters={"q": query}, limit=limit, with_total=False).items, ""
    except ApplicationError as exc:
        return [], exc.message


def candidate_ids_matching(*, user: User, filters: dict[str, Any], limit: int) -> list[int]:
    """Ids of the people a list with these filters (a segment's, say) shows the user, at most `limit`: for bulk
    actions, which need everyone, not a page."""
    filters = clean_candidate_filters(filters)
    if "segment" in filters:
        segment = segment_get_for_user(user=user, segment_id=filters.pop("segment"))
        filters = {**segment.filters, **filters}
    filtered = _apply_filters(candidates_visible_to(user), {k: v for k, v in filters.items() if k != "q"}, user=user)
    query_text = str(filters.get("q") or "").strip()
    if not query_text:
        return list(filtered.order_by("id").values_list("pk", flat=True)[:limit])
    page = search_backend.search(
        parse_query(query_text),
        scope=filtered,
        limit=limit,
        count=False,
        country=str(filters.get("country") or ""),
        status=str(filters.get("status") or ""),
    )
    return list(page.ids)
