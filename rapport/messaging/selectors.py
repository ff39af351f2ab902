"""Reads of message templates and messages, and the merge context a template is rendered against."""

from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, can
from rapport.candidates.models import Candidate, CustomFieldType
from rapport.candidates.selectors import custom_field_definitions
from rapport.common.errors import NotFound, ValidationFailed
from rapport.common.ids import parse_id
from rapport.jobs.models import Job
from rapport.messaging.models import (
    Message,
    MessageStatus,
    MessageTemplate,
    Suppression,
    TemplateCategory,
    TemplateChannel,
)
from rapport.messaging.rendering import Record, RenderedMessage, render_message


def message_templates_visible_to(user: User) -> QuerySet[MessageTemplate]:
    """Templates are a tool of the people who write to candidates; other roles see none (so a lookup is 404)."""
    if not can(user, Capability.MANAGE_TEMPLATES):
        return MessageTemplate.objects.none()
    return MessageTemplate.objects.all()


def message_template_get_for_user(*, user: User, template_id: Any) -> MessageTemplate:
    try:
        return message_templates_visible_to(user).select_related("created_by").get(pk=parse_id(template_id))
    except (MessageTemplate.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such template.")


def message_template_list(
    *, user: User, channel: str | None = None, category: str | None = None, q: str | None = None
) -> QuerySet[MessageTemplate]:
    qs = message_templates_visible_to(user)
    if channel in TemplateChannel.values:
        qs = qs.filter(channel=channel)
    if category in TemplateCategory.values:
        qs = qs.filter(category=category)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.prefetch_related("stages")


def custom_field_keys() -> list[str]:
    return list(custom_field_definitions().values_list("key", flat=True))


# --- merge context ------------------------------------------------------------------------------------------------


def _custom_values(candidate: Candidate) -> dict[str, Any]:
    values: dict[str, Any] = {}
    stored = candidate.custom_fields or {}
    for definition in custom_field_definitions():
        value = stored.get(definition.key)
        if definition.field_type == CustomFieldType.BOOLEAN and value is not None:
            # A yes/no field stays a boolean, so `{% if candidate.custom.relocate %}` reads naturally.
            values[definition.key] = bool(value)
        else:
            # Defined but unset is an empty value, not an unknown field: conditionals on it must work.
            values[definition.key] = "" if value is None else value
    return values


def _candidate_fields(candidate: Candidate) -> Record:
    email = candidate.emails.order_by("position", "id").values_list("email", flat=True).first() or ""
    phone = candidate.phones.order_by("position", "id").values_list("phone", flat=True).first() or ""
    return Record(
        "candidate",
        {
            "first_name": candidate.first_name,
            "last_name": candidate.last_name,
            "full_name": candidate.full_name,
            "email": email,
            "phone": phone,
            "headline": candidate.headline,
            "current_title": candidate.current_title,
            "current_company": candidate.current_company,
            "city": candidate.city,
            "region": candidate.region,
            "country": candidate.country,
            "language": candidate.language,
            "timezone": candidate.timezone,
            "source": candidate.source,
            "custom": Record("candidate.custom", _custom_values(candidate)),
        },
    )


def _job_fields(job: Job) -> Record:
    return Record(
        "job",
        {
            "title": job.title,
            "department": job.department,
            "location": job.location,
            "workplace_type": job.get_workplace_type_display(),
            "employment_type": job.get_employment_type_display(),
            "client": job.client.name if job.client_id else "",
        },
    )


def _sender_fields(sender: User | None) -> Record:
    name = (sender.name or sender.email) if sender is not None else ""
    return Record(
        "recruiter",
        {
            "name": name,
            "first_name": name.split()[0] if name else "",
            "email": sender.email if sender is not None else "",
            "from_name": f"{name} at {settings.RAPPORT_ORG_NAME}" if name else settings.RAPPORT_ORG_NAME,
        },
    )


def merge_context(
    *, candidate: Candidate, job: Job | None = None, application: Any = None, sender: User | None = None
) -> dict[str, Any]:
    """The documented fields for one person, as plain values: templates never see a model instance.

    `job` and `application` are None when not chosen, so `{% if job %}` works and `{{ job.title }}` is an error.
    """
    if application is not None and job is None:
        job = application.job
    base = settings.BASE_URL
    return {
        "candidate": _candidate_fields(candidate),
        "job": _job_fields(job) if job is not None else None,
        "application": Record(
            "application", {"stage": application.stage.name, "status": application.get_status_display()}
        )
        if application is not None
        else None,
        "recruiter": _sender_fields(sender),
        "company": Record(
            "company",
            {
                "name": settings.RAPPORT_ORG_NAME,
                "website": settings.RAPPORT_COMPANY_WEBSITE,
                "address": settings.RAPPORT_COMPANY_ADDRESS,
                "careers_link": f"{base}/careers/",
            },
        ),
        # Placeholders: the sending layer replaces them with the person's signed links.
        "portal_link": f"{base}/portal/",
        "unsubscribe_link": f"{base}/u/unsubscribe",
        "preferences_link": f"{base}/u/preferences",
    }


def message_template_preview(
    *,
    user: User,
    template: MessageTemplate,
    candidate_id: Any,
    job_id: Any = None,
    application_id: Any = None,
) -> RenderedMessage:
    """Render a template (saved or not) for a person, job and application the user can see; others are 404."""
    from rapport.candidates.selectors import candidate_get_for_user
    from rapport.jobs.selectors import job_get_for_user
    from rapport.pipeline.selectors import application_get_for_user

    if candidate_id in (None, ""):
        raise ValidationFailed.single("candidate_id", "Pick a person to preview with.")
    candidate = candidate_get_for_user(user=user, candidate_id=candidate_id)
    job = job_get_for_user(user=user, job_id=job_id) if job_id not in (None, "") else None
    application = None
    if application_id not in (None, ""):
        application = application_get_for_user(user=user, application_id=application_id)
        if application.candidate_id != candidate.pk:
            raise ValidationFailed.single("application_id", "This application belongs to someone else.")
        if job is not None and application.job_id != job.pk:
            raise ValidationFailed.single("application_id", "This application is for another job.")
    elif job is not None:
        # The person's application to the chosen job, when there is one, gives application.stage.
        application = job.applications.filter(candidate=candidate).select_related("stage", "job").first()
    context = merge_context(candidate=candidate, job=job, application=application, sender=user)
    return render_message(
        channel=template.channel,
        language=template.language,
        subject=template.subject,
        body=template.body,
        variants=template.variants or [],
        context=context,
    )


# --- messages -------------------------------------------------------------------------------------------------------


def messages_visible_to(user: User) -> QuerySet[Message]:
    """Messages of the people a user sees, for the roles that write to candidates; other roles see none (404)."""
    from rapport.candidates.selectors import candidates_visible_to

    if not can(user, Capability.SEND_MESSAGES):
        return Message.objects.none()
    return Message.objects.filter(candidate__in=candidates_visible_to(user))


def message_get_for_user(*, user: User, message_id: Any) -> Message:
    try:
        pk = parse_id(message_id)
    except (TypeError, ValueError):
        raise NotFound("No such message.")
    message = messages_visible_to(user).select_related("candidate", "sent_by", "template").filter(pk=pk).first()
    if message is None:
        raise NotFound("No such message.")
    return message


def message_list(*, user: User, candidate_id: Any = None, status: str | None = None) -> QuerySet[Message]:
    qs = messages_visible_to(user)
    if candidate_id not in (None, ""):
        try:
            qs = qs.filter(candidate_id=parse_id(candidate_id))
        except (TypeError, ValueError):
            return qs.none()
    if status in MessageStatus.values:
        qs = qs.filter(status=status)
    return qs.select_related("sent_by")


def candidate_messages(*, user: User, candidate: Candidate, limit: int = 20) -> list[Message]:
    """A person's newest messages for their profile (uses the (candidate, -created_at) index)."""
    return list(
        messages_visible_to(user)
        .filter(candidate=candidate)
        .select_related("sent_by")
        .order_by("-created_at", "-id")[:limit]
    )


def message_events(*, message: Message) -> list[Any]:
    """The timeline events about one message, oldest first."""
    from rapport.timeline.models import Activity

    return list(
        Activity.objects.filter(candidate_id=message.candidate_id, type__startswith="message.")
        .filter(payload__message_id=message.pk)
        .order_by("occurred_at", "id")
    )


def primary_email(candidate: Candidate) -> str:
    return candidate.emails.order_by("position", "id").values_list("email", flat=True).first() or ""


def suppression_for(*, address: str, channel: str) -> Suppression | None:
    return Suppression.objects.filter(address=address.strip().lower(), channel=channel).first()


def message_render(
    *,
    sender: User,
    candidate: Candidate,
    address: str,
    template: MessageTemplate | None = None,
    subject: str | None = None,
    body: str | None = None,
    job: Job | None = None,
    application: Any = None,
    channel: str = TemplateChannel.EMAIL,
) -> RenderedMessage:
    """What one person would get: `subject`/`body` when given (edited text), else the template in their language.

    The unsubscribe and preferences links are the person's own signed links, so the preview shows exactly what
    is sent. Errors (syntax, unknown fields, a job field with no job) raise TemplateInvalid naming field and line.
    """
    from rapport.messaging.links import preferences_url, unsubscribe_url
    from rapport.messaging.rendering import validate_parts

    own_text = body is not None and body.strip() != ""
    if own_text:
        validate_parts({"subject": subject or "", "body": body or ""}, custom_keys=custom_field_keys())
    elif template is None:
        raise ValidationFailed.single("body", "Write the message, or pick a template.")
    context = merge_context(candidate=candidate, job=job, application=application, sender=sender)
    links = {"address": address, "channel": channel, "candidate_id": candidate.pk}
    context["unsubscribe_link"] = unsubscribe_url(**links)
    context["preferences_link"] = preferences_url(**links)
    if own_text or template is None:
        return render_message(
            channel=channel, language="", subject=subject or "", body=body or "", variants=[], context=context
        )
    return render_message(
        channel=channel,
        language=template.language,
        subject=template.subject,
        body=template.body,
        variants=template.variants or [],
        context=context,
    )
