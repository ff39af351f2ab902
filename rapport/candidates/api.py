"""API: people, their timeline and notes, merging and erasure; talent pools and segments."""

from datetime import date, datetime
from typing import Any, Literal

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.api.idempotency import DESCRIPTION as IDEMPOTENCY
from rapport.api.idempotency import idempotent
from rapport.api.schemas import Id, InputSchema, PageParams, listing, parse_id, path_id, responses, str_id
from rapport.candidates import services
from rapport.candidates.models import Candidate, CandidateTag, Segment, TalentPool
from rapport.candidates.selectors import (
    candidate_get_for_user,
    candidate_list,
    pool_get_for_user,
    pools_list,
    segment_get_for_user,
    segments_list,
)
from rapport.common.errors import BadRequest, NotFound, ValidationFailed
from rapport.common.pagination import clamp_limit, decode_cursor, encode_cursor
from rapport.timeline.models import Activity, Note
from rapport.timeline.selectors import TYPE_GROUPS, candidate_timeline
from rapport.timeline.services import note_add

router = Router(tags=["Candidates"])
MAX_OFFSET = 1_000_000

RelationshipStatusName = Literal[
    "lead", "contacted", "engaged", "nurturing", "applicant", "hired", "alumni", "do_not_contact"
]
ChannelName = Literal["email", "sms", "whatsapp", "phone"]


# --- people ------------------------------------------------------------------------------------------------------


class Location(Schema):
    city: str = ""
    region: str = ""
    country: str = Field("", description="ISO 3166-1 alpha-2 code, such as DE or US.")


class CandidateOut(Schema):
    id: str
    first_name: str
    last_name: str
    emails: list[str] = Field(..., description="The first is the primary address.")
    phones: list[str] = Field(..., description="E.164, such as +4930123456.")
    headline: str
    current_title: str
    current_company: str
    location: Location
    timezone: str = Field(..., description="IANA name, such as Europe/Berlin; empty when unknown.")
    language: str
    skills: list[str]
    tags: list[str]
    links: list[str]
    source: str
    owner_id: str | None
    birthday: date | None
    custom_fields: dict[str, Any]
    relationship_status: RelationshipStatusName
    preferred_channel: ChannelName
    engagement_score: int = Field(
        ...,
        description="0-100: how actively the person has responded lately. Opens, clicks, replies and portal visits "
        "add points that lose half their weight every RAPPORT_ENGAGEMENT_HALF_LIFE_DAYS (30 by default), mapped "
        "to 0-100 by 100 × (1 − e^(−points / 10)).",
    )
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_id(obj: Candidate) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_emails(obj: Candidate) -> list[str]:
        return [e.email for e in obj.emails.all()]

    @staticmethod
    def resolve_phones(obj: Candidate) -> list[str]:
        return [p.phone for p in obj.phones.all()]

    @staticmethod
    def resolve_location(obj: Candidate) -> dict[str, str]:
        return {"city": obj.city, "region": obj.region, "country": obj.country}

    @staticmethod
    def resolve_tags(obj: Candidate) -> list[str]:
        return sorted((ct.tag.name for ct in obj.candidate_tags.all()), key=str.lower)

    @staticmethod
    def resolve_owner_id(obj: Candidate) -> str | None:
        return str_id(obj.owner_id)


class CandidatePage(Schema):
    items: list[CandidateOut]
    next_cursor: str | None


class LocationIn(InputSchema):
    city: str | None = None
    region: str | None = None
    country: str | None = Field(None, description="ISO 3166-1 alpha-2 code, such as DE or US.")


class CandidatePatch(InputSchema):
    first_name: str | None = None
    last_name: str | None = None
    emails: list[str] | None = Field(None, description="Replaces the list; the first is primary.")
    phones: list[str] | None = Field(
        None, description="Replaces the list; any common format, stored as E.164 (the country helps parse it)."
    )
    headline: str | None = None
    current_title: str | None = None
    current_company: str | None = None
    location: LocationIn | None = None
    timezone: str | None = Field(None, description="IANA name, such as Europe/Berlin.")
    language: str | None = None
    skills: list[str] | None = None
    tags: list[str] | None = Field(None, description="Replaces the person's tags; new tag names are created.")
    links: list[str] | None = None
    source: str | None = None
    owner_id: Id | None = None
    birthday: date | None = None
    custom_fields: dict[str, Any] | None = Field(
        None, description="Keys are the custom field definitions an admin manages; values are checked by type."
    )
    relationship_status: RelationshipStatusName | None = None
    preferred_channel: ChannelName | None = None


class CandidateCreate(CandidatePatch):
    first_name: str  # type: ignore[assignment]


class CandidateParams(PageParams):
    q: str | None = Field(
        None,
        description='Full text: words, "phrases", prefix*, OR, NOT / -word, (groups). An email or phone finds '
        "its owner exactly.",
    )
    tag: str | None = Field(None, description="A tag name.")
    pool: Id | None = Field(None, description="Members of this talent pool.")
    segment: Id | None = Field(None, description="People this segment matches now.")
    job: Id | None = Field(None, description="People with an application to this job.")
    stage: Id | None = Field(None, description="People whose application is in this stage.")
    status: RelationshipStatusName | None = Field(None, description="Relationship status.")
    source: str | None = None
    owner: Id | None = Field(None, description="The owner's user id.")
    updated_since: str | None = Field(None, description="A date or an ISO-8601 timestamp.")
    engagement_min: int | None = Field(
        None,
        ge=0,
        le=100,
        description="People whose `engagement_score` is at least this (0-100). The score weighs opens, clicks, "
        "replies and portal visits by how recent they are: points lose half their weight every "
        "RAPPORT_ENGAGEMENT_HALF_LIFE_DAYS (30 by default).",
    )
    sort: Literal["recent", "updated", "name", "engagement"] = Field(
        "recent", description="Ignored with `q`, which ranks by relevance."
    )


def _with_contacts(candidate: Candidate) -> Candidate:
    prefetch_related_objects(
        [candidate],
        "emails",
        "phones",
        Prefetch("candidate_tags", queryset=CandidateTag.objects.select_related("tag")),
    )
    return candidate


def _candidate(request: HttpRequest, candidate_id: Any) -> Candidate:
    return candidate_get_for_user(user=request.auth, candidate_id=path_id(str(candidate_id)))


def _page(page: Any) -> dict[str, Any]:
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get(
    "/candidates",
    response=responses({200: CandidatePage}, 400, 404, 422),
    summary="List people",
    description=listing(
        "People in the caller's scope, newest first, or ranked by relevance when `q` is given. "
        "Filters combine with AND; an unknown `segment` answers 404."
    ),
)
def list_candidates(request: HttpRequest, params: Query[CandidateParams]) -> dict[str, Any]:
    filters = params.model_dump(exclude={"limit", "cursor", "sort"}, exclude_none=True)
    if "segment" in filters:
        segment_get_for_user(user=request.auth, segment_id=filters["segment"])
    page = candidate_list(
        user=request.auth,
        filters=filters,
        limit=params.limit,
        cursor=params.cursor,
        sort=params.sort,
        with_total=False,
    )
    return _page(page)


@router.post(
    "/candidates",
    response=responses({201: CandidateOut}, 400, 403, 409, 422),
    summary="Create a person",
    description="Creates a person; 201 with the person. An email or phone that already belongs to someone answers "
    "409 `duplicate` with `existing_id`, so the caller can update that person instead. Without `owner_id`, the "
    "caller becomes the owner. " + IDEMPOTENCY,
)
@idempotent
def create_candidate(request: HttpRequest, payload: CandidateCreate) -> Status:
    candidate = services.candidate_create(actor=request.auth, data=payload.model_dump(exclude_unset=True))
    return Status(201, _with_contacts(candidate))


class MergeIn(InputSchema):
    survivor_id: Id = Field(..., description="The record that stays.")
    merged_id: Id = Field(..., description="The record folded into the survivor, then deleted.")


@router.post(
    "/candidates/merge",
    response=responses({200: CandidateOut}, 400, 403, 404, 409, 422),
    summary="Merge two records of one person",
    description="Moves everything from `merged_id` (applications, timeline, notes, tags, pools, attachments, "
    "contact points) onto `survivor_id`, fills the survivor's empty fields from the merged record, records a "
    "`candidate.merged` event, and deletes the merged record. Answers the surviving person. " + IDEMPOTENCY,
)
@idempotent
def merge_candidates(request: HttpRequest, payload: MergeIn) -> Candidate:
    survivor = _scoped_reference(request, payload.survivor_id, "survivor_id")
    merged = _scoped_reference(request, payload.merged_id, "merged_id")
    services.candidate_merge(actor=request.auth, survivor=survivor, merged=merged)
    return _with_contacts(candidate_get_for_user(user=request.auth, candidate_id=survivor.pk))


def _scoped_reference(request: HttpRequest, candidate_id: int, field: str) -> Candidate:
    try:
        return candidate_get_for_user(user=request.auth, candidate_id=candidate_id)
    except NotFound:
        raise NotFound(f"No person with id {candidate_id}.", fields={field: ["No such person."]})


@router.get("/candidates/{candidate_id}", response=responses({200: CandidateOut}, 404), summary="One person")
def get_candidate(request: HttpRequest, candidate_id: str) -> Candidate:
    return _with_contacts(_candidate(request, candidate_id))


@router.patch(
    "/candidates/{candidate_id}",
    response=responses({200: CandidateOut}, 400, 403, 404, 409, 422),
    summary="Change a person",
    description="Changes only the fields sent. Lists (`emails`, `phones`, `skills`, `tags`, `links`) replace the "
    "old list whole; `location` replaces the whole location. An email or phone that belongs to someone else "
    "answers 409 `duplicate` with `existing_id`.",
)
def update_candidate(request: HttpRequest, candidate_id: str, payload: CandidatePatch) -> Candidate:
    candidate = _candidate(request, candidate_id)
    services.candidate_update(actor=request.auth, candidate=candidate, data=payload.model_dump(exclude_unset=True))
    return _with_contacts(candidate_get_for_user(user=request.auth, candidate_id=candidate.pk))


@router.delete(
    "/candidates/{candidate_id}",
    response=responses({204: None}, 403, 404),
    summary="Erase a person",
    description="Erasure (GDPR): contact points, notes, attachments, tags, pool memberships and the timeline's "
    "details are deleted and the name is anonymised; applications and event types stay for aggregate reports; "
    "the erasure itself is recorded. 204. Only admins may erase.",
)
def erase_candidate(request: HttpRequest, candidate_id: str) -> Status:
    candidate = _candidate(request, candidate_id)
    services.candidate_erase(actor=request.auth, candidate=candidate)
    return Status(204, None)


# --- timeline and notes ---------------------------------------------------------------------------------------------


class ActivityOut(Schema):
    id: str
    type: str = Field(..., examples=["application.stage_changed"])
    occurred_at: datetime
    actor_id: str | None
    application_id: str | None
    job_id: str | None
    payload: dict[str, Any]

    @staticmethod
    def resolve_id(obj: Activity) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_actor_id(obj: Activity) -> str | None:
        return str_id(obj.actor_id)

    @staticmethod
    def resolve_application_id(obj: Activity) -> str | None:
        return str_id(obj.application_id)

    @staticmethod
    def resolve_job_id(obj: Activity) -> str | None:
        return str_id(obj.job_id)


class ActivityPage(Schema):
    items: list[ActivityOut]
    next_cursor: str | None


class TimelineParams(PageParams):
    type: list[str] = Field(
        default_factory=list,
        description="Event types to keep, such as `note.added`; repeat it or separate with commas. Groups: "
        + ", ".join(f"`{name}`" for name in TYPE_GROUPS)
        + ".",
    )


@router.get(
    "/candidates/{candidate_id}/timeline",
    response=responses({200: ActivityPage}, 400, 404, 422),
    summary="A person's activity stream",
    description=listing(
        "The person's events, newest first. Events tied to a job outside the caller's scope are left out."
    ),
)
def get_timeline(request: HttpRequest, candidate_id: str, params: Query[TimelineParams]) -> dict[str, Any]:
    candidate = _candidate(request, candidate_id)
    types = [t.strip() for value in params.type for t in value.split(",") if t.strip()]
    items, next_cursor = candidate_timeline(
        user=request.auth, candidate=candidate, types=types or None, limit=params.limit, cursor=params.cursor
    )
    return {"items": items, "next_cursor": next_cursor}


class NoteIn(InputSchema):
    body: str = Field(..., description="Markdown; it is sanitised when rendered.")
    kind: Literal["note", "call", "meeting"] = Field("note", description="Log a call or a meeting instead.")


class NoteOut(Schema):
    id: str
    candidate_id: str
    author_id: str | None
    kind: str
    body: str
    body_html: str
    created_at: datetime

    @staticmethod
    def resolve_id(obj: Note) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_candidate_id(obj: Note) -> str:
        return str(obj.candidate_id)

    @staticmethod
    def resolve_author_id(obj: Note) -> str | None:
        return str_id(obj.author_id)


@router.post(
    "/candidates/{candidate_id}/notes",
    response=responses({201: NoteOut}, 400, 403, 404, 422),
    summary="Add a note",
    description="Adds a Markdown note (or logs a call or meeting) to the person's timeline; 201. " + IDEMPOTENCY,
)
@idempotent
def add_note(request: HttpRequest, candidate_id: str, payload: NoteIn) -> Status:
    candidate = _candidate(request, candidate_id)
    note = note_add(actor=request.auth, candidate=candidate, body=payload.body, kind=payload.kind)
    return Status(201, note)


# --- talent pools --------------------------------------------------------------------------------------------------


class PoolOut(Schema):
    id: str
    name: str
    description: str
    owner_id: str | None
    member_count: int
    created_at: datetime

    @staticmethod
    def resolve_id(obj: TalentPool) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_owner_id(obj: TalentPool) -> str | None:
        return str_id(obj.owner_id)

    @staticmethod
    def resolve_member_count(obj: TalentPool) -> int:
        count = getattr(obj, "member_count", None)
        return obj.memberships.count() if count is None else count


class PoolPage(Schema):
    items: list[PoolOut]
    next_cursor: str | None


class PoolIn(InputSchema):
    name: str = Field(..., max_length=120)
    description: str = ""


class PoolMembersIn(InputSchema):
    candidate_ids: list[Id] = Field(..., min_length=1, max_length=1000)
    reason: str = Field("", description="Why they belong here, up to 300 characters.")


class PoolMembersOut(Schema):
    added: int = Field(..., description="People newly added.")
    already_members: int = Field(..., description="People who were in the pool already.")


@router.get(
    "/pools",
    response=responses({200: PoolPage}, 400, 422),
    summary="List talent pools",
    tags=["Pools"],
    description=listing("Pools by name. Pools are for admins and recruiters; other roles get an empty list."),
)
def list_pools(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    return _name_ordered_page(pools_list(user=request.auth), params)


def _name_ordered_page(qs: QuerySet, params: PageParams) -> dict[str, Any]:
    # Pools and segments are short, human-curated lists; an offset cursor over the name order is enough.
    limit = clamp_limit(params.limit)
    offset = (decode_cursor(params.cursor) or {}).get("o", 0)
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise BadRequest("The cursor is not valid for this list.", fields={"cursor": ["Not a valid cursor."]})
    rows = list(qs[offset : offset + limit + 1])
    next_cursor = encode_cursor({"o": offset + limit}) if len(rows) > limit else None
    return {"items": rows[:limit], "next_cursor": next_cursor}


@router.post(
    "/pools",
    response=responses({201: PoolOut}, 400, 403, 409, 422),
    summary="Create a talent pool",
    tags=["Pools"],
    description="201 with the pool. A pool with the same name answers 409 `duplicate` with `existing_id`. "
    + IDEMPOTENCY,
)
@idempotent
def create_pool(request: HttpRequest, payload: PoolIn) -> Status:
    pool = services.pool_create(actor=request.auth, name=payload.name, description=payload.description)
    return Status(201, pool)


@router.post(
    "/pools/{pool_id}/members",
    response=responses({200: PoolMembersOut}, 400, 403, 404, 422),
    summary="Add people to a pool",
    tags=["Pools"],
    description="Adds up to 1,000 people at once; people already in the pool are left as they are. An unknown "
    "person answers 404 and adds no one. " + IDEMPOTENCY,
)
@idempotent
def add_pool_members(request: HttpRequest, pool_id: str, payload: PoolMembersIn) -> dict[str, int]:
    pool = pool_get_for_user(user=request.auth, pool_id=path_id(pool_id))
    ids = list(dict.fromkeys(payload.candidate_ids))
    added = services.pool_add_members(actor=request.auth, pool=pool, candidate_ids=ids, reason=payload.reason)
    return {"added": added, "already_members": len(ids) - added}


@router.delete(
    "/pools/{pool_id}/members/{candidate_id}",
    response=responses({204: None}, 403, 404),
    summary="Take a person out of a pool",
    tags=["Pools"],
)
def remove_pool_member(request: HttpRequest, pool_id: str, candidate_id: str) -> Status:
    """204. A person who is not in the pool answers 404."""
    pool = pool_get_for_user(user=request.auth, pool_id=path_id(pool_id))
    candidate = _candidate(request, candidate_id)
    services.pool_remove_member(actor=request.auth, pool=pool, candidate=candidate)
    return Status(204, None)


# --- segments ------------------------------------------------------------------------------------------------------


class SegmentOut(Schema):
    id: str
    name: str
    description: str
    filters: dict[str, Any]
    is_persona: bool
    owner_id: str | None
    created_at: datetime

    @staticmethod
    def resolve_id(obj: Segment) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_owner_id(obj: Segment) -> str | None:
        return str_id(obj.owner_id)


class SegmentPage(Schema):
    items: list[SegmentOut]
    next_cursor: str | None


class SegmentIn(InputSchema):
    name: str = Field(..., max_length=120)
    description: str = ""
    filters: dict[str, Any] = Field(
        ...,
        description="The same filters as GET /candidates (except `segment`), such as "
        '`{"tag": "python", "status": "nurturing"}`.',
        examples=[{"tag": "python", "status": "nurturing"}],
    )
    is_persona: bool = Field(False, description="A persona is a segment that describes a kind of person.")


_SEGMENT_ID_FILTERS = ("pool", "job", "stage", "owner")
_SEGMENT_OWN_FIELDS = {"name", "description", "filters", "is_persona"}


@router.get(
    "/segments",
    response=responses({200: SegmentPage}, 400, 422),
    summary="List segments",
    tags=["Segments"],
    description=listing("Segments by name. Segments are for admins and recruiters; other roles get an empty list."),
)
def list_segments(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    return _name_ordered_page(segments_list(user=request.auth).order_by("name", "id"), params)


@router.post(
    "/segments",
    response=responses({201: SegmentOut}, 400, 403, 409, 422),
    summary="Create a segment",
    tags=["Segments"],
    description="A segment is a saved filter; its members are computed each time they are asked for. Errors in "
    "the filters are named like `filters.status`. A segment with the same name answers 409 `duplicate`. " + IDEMPOTENCY,
)
@idempotent
def create_segment(request: HttpRequest, payload: SegmentIn) -> Status:
    for key in _SEGMENT_ID_FILTERS:
        value = payload.filters.get(key)
        if value not in (None, ""):
            try:
                parse_id(value)
            except ValueError as exc:
                raise ValidationFailed.single(f"filters.{key}", str(exc))
    try:
        segment = services.segment_create(
            actor=request.auth,
            name=payload.name,
            filters=payload.filters,
            description=payload.description,
            is_persona=payload.is_persona,
        )
    except ValidationFailed as exc:
        exc.fields = {(k if k in _SEGMENT_OWN_FIELDS else f"filters.{k}"): v for k, v in exc.fields.items()}
        raise
    return Status(201, segment)


@router.get(
    "/segments/{segment_id}/members",
    response=responses({200: CandidatePage}, 400, 404, 422),
    summary="The people a segment matches now",
    tags=["Segments"],
    description=listing("Computed on every call from the segment's filters, within the caller's scope."),
)
def segment_members(request: HttpRequest, segment_id: str, params: Query[PageParams]) -> dict[str, Any]:
    segment = segment_get_for_user(user=request.auth, segment_id=path_id(segment_id))
    page = candidate_list(
        user=request.auth,
        filters={"segment": segment.pk},
        limit=params.limit,
        cursor=params.cursor,
        with_total=False,
    )
    return _page(page)
