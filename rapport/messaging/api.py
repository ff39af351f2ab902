"""API: message templates and their preview."""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.api.idempotency import DESCRIPTION as IDEMPOTENCY
from rapport.api.idempotency import idempotent
from rapport.api.schemas import Id, InputSchema, PageParams, keyset_page, listing, path_id, responses, str_id
from rapport.messaging import services
from rapport.messaging.models import MessageTemplate
from rapport.messaging.rendering import FIELDS, LINKS
from rapport.messaging.selectors import message_template_get_for_user, message_template_list, message_template_preview

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
    template = services.message_template_create(actor=request.auth, data=_data(payload))
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
    services.message_template_update(actor=request.auth, template=template, data=_data(payload))
    return _template(request, template_id)


@router.delete(
    "/templates/{template_id}",
    response=responses({204: None}, 403, 404, 409),
    summary="Delete a message template",
    description="204. Stages that suggested it stop suggesting a template. (Once sequences and triggers exist, a "
    "template one of them uses answers 409.)",
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
