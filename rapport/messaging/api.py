"""API: message templates and their preview, and messages (send one, list, get with its events)."""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.accounts.permissions import Capability, ensure
from rapport.api.idempotency import DESCRIPTION as IDEMPOTENCY
from rapport.api.idempotency import idempotent
from rapport.api.schemas import Id, InputSchema, PageParams, keyset_page, listing, path_id, responses, str_id
from rapport.messaging import services
from rapport.messaging.channels.whatsapp.services import message_template_save
from rapport.messaging.models import Message, MessageTemplate
from rapport.messaging.rendering import FIELDS, LINKS
from rapport.messaging.selectors import (
    message_events,
    message_get_for_user,
    message_list,
    message_template_get_for_user,
    message_template_list,
    message_template_preview,
)

router = Router(tags=["Templates"])

ChannelName = Literal["email", "sms", "whatsapp"]
CategoryName = Literal["outreach", "application", "interview", "offer", "rejection", "nurture", "event", "general"]

MERGE_FIELDS = (
    "Subjects and bodies are Jinja templates (`{{ candidate.first_name }}`, `{% if job %}…{% endif %}`) over these "
    "fields only: "
    + "; ".join(f"`{ns}.` {', '.join(fields)}" for ns, fields in FIELDS.items())
    + "; `candidate.custom.<key>` for the organisation's custom fields; and "
    + ", ".join(f"`{name}`" for name in LINKS)
    + " (placeholders until the message is sent). A syntax error or an unknown field answers 422 naming the field "
    "and line, e.g. `body: line 3: unknown field candidate.frist_name`. Email bodies are Markdown."
)


class VariantSchema(Schema):
    language: str = Field(..., description="A language code such as fr or pt-br.")
    subject: str = Field("", description="Email only.")
    body: str


class VariantIn(InputSchema):
    language: str = Field(..., description="A language code such as fr or pt-br.")
    subject: str = Field("", description="Email only.")
    body: str


class TemplateOut(Schema):
    id: str
    name: str
    channel: ChannelName
    category: CategoryName
    subject: str
    body: str
    language: str = Field(..., description="The language of `subject` and `body`; empty when unspecified.")
    variants: list[VariantSchema]
    whatsapp_content_sid: str = Field(
        ..., description="WhatsApp only: the approved WhatsApp template (Twilio Content SID, HX…); empty when none."
    )
    whatsapp_variables: dict[str, str] = Field(
        ...,
        description='WhatsApp only: the merge field that fills each numbered variable, e.g. {"1": '
        '"candidate.first_name"}.',
    )
    stage_ids: list[str] = Field(..., description="Job stages that suggest this template.")
    created_by_id: str | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_id(obj: MessageTemplate) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_stage_ids(obj: MessageTemplate) -> list[str]:
        return [str(stage.pk) for stage in obj.stages.all()]

    @staticmethod
    def resolve_created_by_id(obj: MessageTemplate) -> str | None:
        return str_id(obj.created_by_id)


class TemplatePage(Schema):
    items: list[TemplateOut]
    next_cursor: str | None


class TemplatePatch(InputSchema):
    name: str | None = Field(None, description="Unique, up to 120 characters.")
    channel: ChannelName | None = None
    category: CategoryName | None = None
    subject: str | None = Field(None, description="Required for email; ignored for SMS and WhatsApp.")
    body: str | None = Field(None, description="Markdown for email, plain text for SMS and WhatsApp.")
    language: str | None = Field(None, description="The language of the default subject and body, such as en.")
    variants: list[VariantIn] | None = Field(
        None, description="Other languages; replaces the list. A person gets the variant in their `language`."
    )
    stage_id: Id | None = Field(
        None,
        description="A job stage (GET /jobs/{id}/stages) that should suggest this template; null stops every "
        "stage from suggesting it.",
    )
    whatsapp_content_sid: str | None = Field(
        None,
        description="WhatsApp only: the Content SID (HX + 32 hex) of the template Meta approved. Outside the 24 "
        "hours after the person's last WhatsApp message it is sent instead of the body; empty removes it.",
    )
    whatsapp_variables: dict[str, str] | None = Field(
        None,
        description="WhatsApp only: numbered variables 1, 2, 3… of the approved template and the merge field that "
        'fills each, e.g. {"1": "candidate.first_name", "2": "job.title"}; replaces the mapping. An unknown field '
        "answers 422 naming it, e.g. `whatsapp_variables.2`.",
    )


class TemplateCreate(TemplatePatch):
    name: str  # type: ignore[assignment]
    channel: ChannelName  # type: ignore[assignment]
    category: CategoryName = "general"  # type: ignore[assignment]
    body: str  # type: ignore[assignment]


class TemplateParams(PageParams):
    channel: ChannelName | None = None
    category: CategoryName | None = None
    q: str | None = Field(None, description="Matches the name.")


class PreviewIn(InputSchema):
    candidate_id: Id
    job_id: Id | None = Field(None, description="Fills `job.*`; the person's application to it fills `application.*`.")
    application_id: Id | None = None


class PreviewOut(Schema):
    subject: str
    html: str = Field(..., description="The branded email with inlined CSS; empty for SMS and WhatsApp.")
    text: str = Field(..., description="The plain-text alternative (the message itself for SMS and WhatsApp).")
    language: str = Field(..., description="The variant used: the person's language, or the default.")


def _template(request: HttpRequest, template_id: str) -> MessageTemplate:
    return message_template_get_for_user(user=request.auth, template_id=path_id(template_id))


def _data(payload: TemplatePatch) -> dict[str, Any]:
    return payload.model_dump(exclude_unset=True)


@router.get(
    "/templates",
    response=responses({200: TemplatePage}, 400, 422),
    summary="List message templates",
    description=listing(
        "Templates, newest first, filtered by `channel`, `category` or a name match. Templates are for admins and "
        "recruiters; other roles get an empty list."
    ),
)
def list_templates(request: HttpRequest, params: Query[TemplateParams]) -> dict[str, Any]:
    qs = message_template_list(user=request.auth, channel=params.channel, category=params.category, q=params.q)
    items, next_cursor = keyset_page(qs, limit=params.limit, cursor=params.cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "/templates",
    response=responses({201: TemplateOut}, 400, 403, 422),
    summary="Create a message template",
    description="201 with the template. " + MERGE_FIELDS + " " + IDEMPOTENCY,
)
@idempotent
def create_template(request: HttpRequest, payload: TemplateCreate) -> Status:
    template = message_template_save(actor=request.auth, template=None, data=_data(payload))
    return Status(201, template)


@router.get("/templates/{template_id}", response=responses({200: TemplateOut}, 404), summary="One template")
def get_template(request: HttpRequest, template_id: str) -> MessageTemplate:
    return _template(request, template_id)


@router.patch(
    "/templates/{template_id}",
    response=responses({200: TemplateOut}, 400, 403, 404, 422),
    summary="Change a message template",
    description="Changes only the fields sent; `variants` replaces the list. The result is checked as a whole, "
    "so changing the channel to email needs a subject. " + MERGE_FIELDS,
)
def update_template(request: HttpRequest, template_id: str, payload: TemplatePatch) -> MessageTemplate:
    template = _template(request, template_id)
    message_template_save(actor=request.auth, template=template, data=_data(payload))
    return _template(request, template_id)


@router.delete(
    "/templates/{template_id}",
    response=responses({204: None}, 403, 404, 409),
    summary="Delete a message template",
    description="204. Stages that suggested it stop suggesting a template. A template that a sequence step, an A/B "
    "variant or a trigger sends answers 409 `conflict`, naming them.",
)
def delete_template(request: HttpRequest, template_id: str) -> Status:
    services.message_template_delete(actor=request.auth, template=_template(request, template_id))
    return Status(204, None)


@router.post(
    "/templates/{template_id}/preview",
    response=responses({200: PreviewOut}, 400, 404, 422),
    summary="Preview a template for a person",
    description="Renders the template for a person (and optionally a job or application) in the caller's scope: "
    "`{subject, html, text}`. Someone outside the caller's scope answers 404; a field the template needs but "
    "the preview lacks (such as `job.title` without a job) answers 422 naming it. Nothing is sent or stored. "
    + IDEMPOTENCY,
)
@idempotent
def preview_template(request: HttpRequest, template_id: str, payload: PreviewIn) -> dict[str, str]:
    rendered = message_template_preview(
        user=request.auth,
        template=_template(request, template_id),
        candidate_id=payload.candidate_id,
        job_id=payload.job_id,
        application_id=payload.application_id,
    )
    return {"subject": rendered.subject, "html": rendered.html, "text": rendered.text, "language": rendered.language}


# --- messages -------------------------------------------------------------------------------------------------------

messages_router = Router(tags=["Messages"])

# `received` is the status of what a person sent us (direction `inbound`): a reply, a text.
StatusName = Literal[
    "queued", "scheduled", "sending", "sent", "delivered", "failed", "bounced", "suppressed", "received"
]


class MessageCreate(InputSchema):
    candidate_id: Id
    channel: ChannelName = Field(
        "email",
        description="`sms` and `whatsapp` go to the person's first phone number as plain text (no subject, at most "
        "1,600 characters once the fields are filled in), through Twilio.",
    )
    template_id: Id | None = Field(
        None,
        description="A template to send; the person's `language` picks its variant. With `body` as well, the "
        "given text is sent and the template is recorded as where it came from.",
    )
    subject: str | None = Field(None, description="With `body`: the subject, a template text like the body.")
    body: str | None = Field(None, description="Markdown with merge fields; wins over the template's text.")
    job_id: Id | None = Field(None, description="Fills `job.*`; the person's application to it fills `application.*`.")
    send_at: datetime | None = Field(
        None, description="ISO-8601 with a time zone; the message is `scheduled` until then. Leave out to send now."
    )


class MessageAccepted(Schema):
    id: str
    status: StatusName


class MessageEvent(Schema):
    type: str = Field(..., examples=["message.sent"])
    occurred_at: datetime
    reason: str | None = None


class MessageOut(Schema):
    id: str
    candidate_id: str
    channel: ChannelName
    direction: Literal["outbound", "inbound"]
    status: StatusName
    to_address: str
    subject: str
    body_text: str
    template_id: str | None
    job_id: str | None
    sent_by_id: str | None
    scheduled_for: datetime | None
    sent_at: datetime | None
    created_at: datetime
    attempts: int
    last_error: str = Field(..., description="Why the last try failed or the message was not sent; empty otherwise.")
    kind: Literal["one_to_one", "bulk", "automated"] = Field(
        ..., description="Quiet hours and the frequency cap hold back `bulk` and `automated` messages only."
    )
    deferred_reason: str = Field(
        ..., description="Why the worker held it back (quiet hours, frequency cap) and until when; empty otherwise."
    )

    @staticmethod
    def resolve_id(obj: Message) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_candidate_id(obj: Message) -> str:
        return str(obj.candidate_id)

    @staticmethod
    def resolve_body_text(obj: Message) -> str:
        return obj.text

    @staticmethod
    def resolve_template_id(obj: Message) -> str | None:
        return str_id(obj.template_id)

    @staticmethod
    def resolve_job_id(obj: Message) -> str | None:
        return str_id(obj.job_id)

    @staticmethod
    def resolve_sent_by_id(obj: Message) -> str | None:
        return str_id(obj.sent_by_id)


class MessageDetail(MessageOut):
    html: str = Field(..., description="The HTML part as sent (email only).")
    events: list[MessageEvent] = Field(..., description="The message's timeline events, oldest first.")

    @staticmethod
    def resolve_events(obj: Message) -> list[dict[str, Any]]:
        return [
            {"type": a.type, "occurred_at": a.occurred_at, "reason": (a.payload or {}).get("reason")}
            for a in message_events(message=obj)
        ]


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class MessageParams(PageParams):
    candidate_id: str | None = Field(None, description="Only this person's messages.")
    candidate: str | None = Field(None, description="The same as `candidate_id`.")
    status: StatusName | None = None


@messages_router.post(
    "/messages",
    response=responses({202: MessageAccepted}, 400, 403, 404, 409, 422),
    summary="Send a message to one person",
    description="202 `{id, status}`: the message is rendered for the person now and queued (or `scheduled` with "
    "`send_at`); delivery happens in the background, so follow `GET /messages/{id}`. Give a `template_id`, or a "
    "`body` (and `subject` for email). Refused with 422 naming the field: a template that does not render for this "
    "person, a person with no email address (no phone number for `sms` and `whatsapp`), a text longer than 1,600 "
    "characters, marked do not contact, or on the suppression list for that channel. Admins and "
    "recruiters only (403 for other roles); a person out of scope is 404. The `Idempotency-Key` also keeps the "
    "outbox from ever holding the message twice. " + IDEMPOTENCY,
)
@idempotent
def send_message(request: HttpRequest, payload: MessageCreate) -> Status:
    from rapport.candidates.selectors import candidate_get_for_user
    from rapport.jobs.selectors import job_get_for_user

    user = request.auth
    candidate = candidate_get_for_user(user=user, candidate_id=payload.candidate_id)
    ensure(user, Capability.SEND_MESSAGES)
    template = (
        message_template_get_for_user(user=user, template_id=payload.template_id) if payload.template_id else None
    )
    job = job_get_for_user(user=user, job_id=payload.job_id) if payload.job_id else None
    message = services.message_send(
        actor=user,
        candidate=candidate,
        template=template,
        subject=payload.subject,
        body=payload.body,
        job=job,
        send_at=payload.send_at,
        channel=payload.channel,
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    return Status(202, {"id": str(message.pk), "status": message.status})


class BulkCreate(InputSchema):
    candidate_ids: list[Id] | None = Field(None, description="The people to write to (at most 10,000).")
    pool_id: Id | None = Field(None, description="Or everyone in this talent pool.")
    segment_id: Id | None = Field(None, description="Or everyone this saved segment matches.")
    template_id: Id
    channel: ChannelName = Field(
        "email", description="The template's channel; `sms` and `whatsapp` go to each person's first phone number."
    )
    job_id: Id | None = Field(None, description="Fills `job.*`; each person's application to it fills `application.*`.")


class BulkSkip(Schema):
    candidate_id: str
    reason: str


class BulkAccepted(Schema):
    id: str
    queued: int
    skipped: list[BulkSkip]


@messages_router.post(
    "/messages/bulk",
    response=responses({202: BulkAccepted}, 400, 403, 404, 409, 422),
    summary="Send a template to many people",
    description="Give exactly one of `candidate_ids`, `pool_id` or `segment_id`. Each person gets the template "
    "rendered for them (their language, their own unsubscribe link) as a `bulk` message; 202 `{id, queued, "
    "skipped: [{candidate_id, reason}]}` lists everyone skipped and why: not found or out of your scope, no email "
    "address (or phone number), do not contact, suppressed, or a template that cannot be filled in for them (naming the field and "
    "line). At send time the worker holds bulk messages back in the person's quiet hours and over the frequency "
    "cap (see `deferred_reason` on each message). Admins and recruiters only (403 for other roles). " + IDEMPOTENCY,
)
@idempotent
def send_bulk(request: HttpRequest, payload: BulkCreate) -> Status:
    from rapport.candidates.selectors import pool_get_for_user, segment_get_for_user
    from rapport.jobs.selectors import job_get_for_user

    user = request.auth
    ensure(user, Capability.SEND_MESSAGES)
    template = message_template_get_for_user(user=user, template_id=payload.template_id)
    bulk = services.message_bulk_send(
        actor=user,
        template=template,
        candidate_ids=payload.candidate_ids,
        pool=pool_get_for_user(user=user, pool_id=payload.pool_id) if payload.pool_id else None,
        segment=segment_get_for_user(user=user, segment_id=payload.segment_id) if payload.segment_id else None,
        job=job_get_for_user(user=user, job_id=payload.job_id) if payload.job_id else None,
        channel=payload.channel,
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    skipped = [{"candidate_id": str(s["candidate_id"]), "reason": s["reason"]} for s in bulk.skipped]
    return Status(202, {"id": str(bulk.pk), "queued": bulk.queued, "skipped": skipped})


@messages_router.get(
    "/messages",
    response=responses({200: MessagePage}, 400, 422),
    summary="List messages",
    description=listing(
        "Messages, newest first, filtered by person (`candidate_id`, or `candidate`) and `status`. Messages are "
        "for admins and recruiters; other roles get an empty list."
    ),
)
def list_messages(request: HttpRequest, params: Query[MessageParams]) -> dict[str, Any]:
    qs = message_list(user=request.auth, candidate_id=params.candidate_id or params.candidate, status=params.status)
    items, next_cursor = keyset_page(qs, limit=params.limit, cursor=params.cursor)
    return {"items": items, "next_cursor": next_cursor}


@messages_router.get(
    "/messages/{message_id}",
    response=responses({200: MessageDetail}, 404),
    summary="One message, with its status and events",
)
def get_message(request: HttpRequest, message_id: str) -> Message:
    return message_get_for_user(user=request.auth, message_id=path_id(message_id))


# The inbox operations share the messages router (PATCH /messages/{id} sits beside GET /messages/{id}).
from rapport.messaging import api_inbox  # noqa: E402, F401
