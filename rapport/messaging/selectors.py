"""Reads of message templates and messages, and the merge context a template is rendered against."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, can
from rapport.candidates.models import Candidate, CustomFieldType
from rapport.candidates.selectors import custom_field_definitions
from rapport.common.errors import NotFound, ValidationFailed
from rapport.common.ids import parse_id
from rapport.jobs.models import Job
from rapport.messaging.models import (
    RESPECTFUL_KINDS,
    Message,
    MessageStatus,
    MessageTemplate,
    Suppression,
    SuppressionReason,
    TemplateCategory,
    TemplateChannel,
)
from rapport.messaging.rendering import Record, RenderedMessage, render_message
from rapport.portal.links import portal_signed_link


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


def _custom_values(candidate: Candidate, definitions: Iterable[Any] | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    stored = candidate.custom_fields or {}
    for definition in custom_field_definitions() if definitions is None else definitions:
        value = stored.get(definition.key)
        if definition.field_type == CustomFieldType.BOOLEAN and value is not None:
            # A yes/no field stays a boolean, so `{% if candidate.custom.relocate %}` reads naturally.
            values[definition.key] = bool(value)
        else:
            # Defined but unset is an empty value, not an unknown field: conditionals on it must work.
            values[definition.key] = "" if value is None else value
    return values


def _candidate_fields(candidate: Candidate, contact: "Contact | None" = None) -> Record:
    if contact is None:
        email = candidate.emails.order_by("position", "id").values_list("email", flat=True).first() or ""
        phone = candidate.phones.order_by("position", "id").values_list("phone", flat=True).first() or ""
        definitions = None
    else:
        email, phone, definitions = contact.email, contact.phone, contact.definitions
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
            "custom": Record("candidate.custom", _custom_values(candidate, definitions)),
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


@dataclass(frozen=True)
class Contact:
    """A person's primary email and phone and the custom field definitions, loaded for many people at once."""

    email: str
    phone: str
    definitions: list[Any]


def merge_context(
    *,
    candidate: Candidate,
    job: Job | None = None,
    application: Any = None,
    sender: User | None = None,
    contact: Contact | None = None,
) -> dict[str, Any]:
    """The documented fields for one person, as plain values: templates never see a model instance.

    `job` and `application` are None when not chosen, so `{% if job %}` works and `{{ job.title }}` is an error.
    `contact` saves the per-person queries when a bulk send has loaded them for everyone.
    """
    if application is not None and job is None:
        job = application.job
    base = settings.BASE_URL
    candidate_fields = _candidate_fields(candidate, contact)
    return {
        "candidate": candidate_fields,
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
        # Stateless and signed (rapport/portal/links.py), so rendering a preview writes nothing.
        "portal_link": portal_signed_link(candidate=candidate, primary_email=candidate_fields["email"]),
        # Placeholders: the sending layer replaces them with the person's signed links.
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


def message_events(*, message: Message) -> list[Any]:
    """The timeline events about one message, oldest first."""
    from rapport.timeline.models import Activity

    return list(
        Activity.objects.filter(candidate_id=message.candidate_id, type__startswith="message.")
        .filter(payload__message_id=message.pk)
        .order_by("occurred_at", "id")
    )


def message_for_tracking(*, message_id: int) -> Message | None:
    """The message a tracking token names, with its person; None when it no longer exists."""
    return Message.objects.select_related("candidate", "application", "job").filter(pk=message_id).first()


def stage_template_suggestion(*, user: User, candidate: Candidate, channel: str) -> tuple[MessageTemplate, Any] | None:
    """The template the person's current stage suggests ("contextual communication"), with that application.

    Of their active applications the user can see, the one that moved most recently wins; its stage's default
    template is suggested when it is on the channel being written on.
    """
    from rapport.pipeline.models import ApplicationStatus
    from rapport.pipeline.selectors import applications_visible_to

    application = (
        applications_visible_to(user)
        .filter(candidate=candidate, status=ApplicationStatus.ACTIVE, stage__default_template__isnull=False)
        .select_related("job", "stage__default_template")
        .order_by("-stage_entered_at", "-id")
        .first()
    )
    if application is None:
        return None
    template = application.stage.default_template
    if template.channel != channel or not message_templates_visible_to(user).filter(pk=template.pk).exists():
        return None
    return template, application


def thread_parent(*, in_reply_to: str = "", references: str = "") -> Message | None:
    """The message a reply answers, from its In-Reply-To header, else the newest of its References we know."""
    ids = [value for value in references.split() if value.startswith("<")]
    ids.reverse()
    if in_reply_to.strip():
        ids.insert(0, in_reply_to.strip())
    if not ids:
        return None
    found = {m.message_id: m for m in Message.objects.filter(message_id__in=ids[:50]).select_related("job")}
    return next((found[i] for i in ids if i in found), None)


def candidate_for_address(*, channel: str, address: str) -> Candidate | None:
    """The person an email address or phone number (E.164) belongs to; each belongs to at most one."""
    value = address.strip()
    if not value:
        return None
    if channel == "email":
        return Candidate.objects.filter(emails__email=value.lower(), erased_at__isnull=True).first()
    return Candidate.objects.filter(phones__phone=value, erased_at__isnull=True).first()


def _first_prefetched(candidate: Candidate, relation: str, field: str) -> str | None:
    """The first of the person's prefetched emails or phones; None when they were not prefetched.

    Every prefetch of them (the profile, the list pages, the export) orders them by (position, id), as below.
    """
    rows = getattr(candidate, "_prefetched_objects_cache", {}).get(relation)
    if rows is None:
        return None
    return next((getattr(row, field) for row in rows), "")


def primary_email(candidate: Candidate) -> str:
    prefetched = _first_prefetched(candidate, "emails", "email")
    if prefetched is not None:
        return prefetched
    return candidate.emails.order_by("position", "id").values_list("email", flat=True).first() or ""


def primary_phone(candidate: Candidate) -> str:
    """The person's first phone number (E.164), where SMS and WhatsApp go."""
    prefetched = _first_prefetched(candidate, "phones", "phone")
    if prefetched is not None:
        return prefetched
    return candidate.phones.order_by("position", "id").values_list("phone", flat=True).first() or ""


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
    contact: Contact | None = None,
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
    context = merge_context(candidate=candidate, job=job, application=application, sender=sender, contact=contact)
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


# --- respecting the person ------------------------------------------------------------------------------------------


def recent_capped_sends(*, candidate_ids: Iterable[int], now: datetime) -> dict[int, list[datetime]]:
    """Each person's bulk and automated sends in the frequency window before `now`, in one query for a batch."""
    from rapport.messaging.respect import FREQUENCY_WINDOW

    sends: dict[int, list[datetime]] = defaultdict(list)
    rows = Message.objects.filter(
        candidate_id__in=list(candidate_ids), kind__in=RESPECTFUL_KINDS, sent_at__gt=now - FREQUENCY_WINDOW
    ).values_list("candidate_id", "sent_at")
    for candidate_id, sent_at in rows:
        sends[candidate_id].append(sent_at)
    return sends


def frequency_cap_warning(*, candidate: Candidate, now: datetime | None = None) -> str:
    """A note for the compose panel when the person already had the cap's worth of bulk and automated messages."""
    from rapport.messaging.respect import FREQUENCY_WINDOW

    cap = settings.RAPPORT_FREQUENCY_CAP
    if cap <= 0:
        return ""
    now = now or timezone.now()
    count = Message.objects.filter(
        candidate=candidate, kind__in=RESPECTFUL_KINDS, sent_at__gt=now - FREQUENCY_WINDOW
    ).count()
    if count < cap:
        return ""
    return (
        f"{candidate.first_name or candidate.full_name} got {count} bulk or automated messages in the last 7 days "
        f"(the cap is {cap}). A message you write yourself still goes, but consider waiting."
    )


# --- bulk -----------------------------------------------------------------------------------------------------------

BULK_MAX = 10_000
_CHUNK = 500  # ids per IN (...) query: well under every database's parameter limit


@dataclass
class Skip:
    candidate_id: int
    name: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"candidate_id": self.candidate_id, "name": self.name, "reason": self.reason}


@dataclass
class Recipient:
    candidate: Candidate
    address: str
    contact: Contact
    application: Any = None


@dataclass
class BulkPlan:
    """Who a bulk send reaches and who it skips (with why), with everything needed to render each person."""

    audience: str
    recipients: list[Recipient]
    skipped: list[Skip]


def bulk_audience(
    *, user: User, candidate_ids: list[Any] | None = None, pool: Any = None, segment: Any = None
) -> tuple[str, list[int], list[int]]:
    """(label, ids in the user's scope, asked-for ids that are not): exactly one of the three sources is used."""
    from rapport.candidates.models import PoolMembership
    from rapport.candidates.selectors import candidate_ids_matching, candidates_visible_to

    given = [x is not None for x in (candidate_ids, pool, segment)]
    if sum(given) != 1:
        raise ValidationFailed.single("candidate_ids", "Choose the people: a selection, a pool or a segment.")
    if candidate_ids is not None:
        asked: list[int] = []
        for value in candidate_ids:
            try:
                pk = parse_id(value)
            except (TypeError, ValueError):
                raise ValidationFailed.single("candidate_ids", f"{value!r} is not a person's id.")
            if pk not in asked:
                asked.append(pk)
        if not asked:
            raise ValidationFailed.single("candidate_ids", "Select at least one person.")
        if len(asked) > BULK_MAX:
            raise ValidationFailed.single("candidate_ids", f"Send to at most {BULK_MAX:,} people at once.")
        visible: set[int] = set()
        for start in range(0, len(asked), _CHUNK):
            chunk = asked[start : start + _CHUNK]
            visible.update(candidates_visible_to(user).filter(pk__in=chunk).values_list("pk", flat=True))
        label = f"{len(asked):,} selected {'person' if len(asked) == 1 else 'people'}"
        return label, [pk for pk in asked if pk in visible], [pk for pk in asked if pk not in visible]
    if pool is not None:
        ids = list(
            PoolMembership.objects.filter(pool=pool, candidate__in=candidates_visible_to(user))
            .order_by("candidate_id")
            .values_list("candidate_id", flat=True)[: BULK_MAX + 1]
        )
        label = f"pool {pool.name}"
    else:
        ids = candidate_ids_matching(user=user, filters={"segment": segment.pk}, limit=BULK_MAX + 1)
        label = f"segment {segment.name}"
    if len(ids) > BULK_MAX:
        raise ValidationFailed.single(
            "pool_id" if pool is not None else "segment_id",
            f"The {label} has more than {BULK_MAX:,} people; send to a narrower group.",
        )
    return label, ids, []


def _first_per_candidate(rows: Iterable[tuple[int, str]]) -> dict[int, str]:
    first: dict[int, str] = {}
    for candidate_id, value in rows:
        first.setdefault(candidate_id, value)
    return first


def bulk_plan(
    *,
    user: User,
    candidate_ids: list[Any] | None = None,
    pool: Any = None,
    segment: Any = None,
    job: Job | None = None,
    channel: str = TemplateChannel.EMAIL,
) -> BulkPlan:
    """The people a bulk send reaches, with their data loaded a chunk at a time (a few queries per 500 people, never
    one per person), and those it skips: out of scope, erased, no address, do not contact, suppressed."""
    from rapport.candidates.models import CandidateEmail, CandidatePhone, RelationshipStatus
    from rapport.pipeline.models import Application

    label, ids, outside = bulk_audience(user=user, candidate_ids=candidate_ids, pool=pool, segment=segment)
    skipped = [Skip(pk, "", "Not found, or not among the people you can see.") for pk in outside]
    recipients: list[Recipient] = []
    definitions = list(custom_field_definitions())
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        people = Candidate.objects.in_bulk(chunk)
        emails = _first_per_candidate(
            CandidateEmail.objects.filter(candidate_id__in=chunk)
            .order_by("candidate_id", "position", "id")
            .values_list("candidate_id", "email")
        )
        phones = _first_per_candidate(
            CandidatePhone.objects.filter(candidate_id__in=chunk)
            .order_by("candidate_id", "position", "id")
            .values_list("candidate_id", "phone")
        )
        # Email goes to the first email address; SMS and WhatsApp to the first phone number.
        addresses = emails if channel == TemplateChannel.EMAIL else phones
        suppressed = dict(
            Suppression.objects.filter(
                channel=channel, address__in=[a.lower() for a in addresses.values()]
            ).values_list("address", "reason")
        )
        applications = {}
        if job is not None:
            applications = {
                a.candidate_id: a
                for a in Application.objects.filter(job=job, candidate_id__in=chunk).select_related("stage", "job")
            }
        for pk in chunk:
            candidate = people.get(pk)
            if candidate is None or candidate.erased_at is not None:
                skipped.append(Skip(pk, "", "Not found, or not among the people you can see."))
                continue
            address = addresses.get(pk, "")
            reason = ""
            if not address:
                reason = "No email address." if channel == TemplateChannel.EMAIL else "No phone number."
            elif candidate.relationship_status == RelationshipStatus.DO_NOT_CONTACT:
                reason = "Marked do not contact."
            elif address.lower() in suppressed:
                why = SuppressionReason(suppressed[address.lower()]).label.lower()
                reason = f"{address} is on the suppression list ({why})."
            if reason:
                skipped.append(Skip(pk, candidate.full_name, reason))
                continue
            contact = Contact(email=emails.get(pk, ""), phone=phones.get(pk, ""), definitions=definitions)
            recipients.append(Recipient(candidate, address, contact, applications.get(pk)))
    return BulkPlan(audience=label, recipients=recipients, skipped=skipped)


def bulk_render(*, sender: User, template: MessageTemplate, recipient: Recipient, job: Job | None) -> RenderedMessage:
    """One person's message in a bulk send: the template in their language, with their own links."""
    return message_render(
        sender=sender,
        candidate=recipient.candidate,
        address=recipient.address,
        template=template,
        job=job,
        application=recipient.application,
        contact=recipient.contact,
        channel=template.channel,
    )


def bulk_preview(
    *, user: User, template: MessageTemplate, plan: BulkPlan, job: Job | None, sample: int = 3
) -> tuple[list[tuple[Recipient, RenderedMessage]], list[Skip]]:
    """What up to `sample` random recipients would get, and who else would be skipped because the template cannot
    be filled in for them (checked with the merge fields only, which is fast enough for thousands)."""
    import random

    from rapport.messaging.rendering import TemplateInvalid, pick_variant, render_text

    failing: list[Skip] = []
    renderable: list[Recipient] = []
    for recipient in plan.recipients:
        context = merge_context(
            candidate=recipient.candidate,
            job=job,
            application=recipient.application,
            sender=user,
            contact=recipient.contact,
        )
        chosen = pick_variant(
            default_language=template.language,
            subject=template.subject,
            body=template.body,
            variants=template.variants or [],
            language=recipient.candidate.language or None,
        )
        try:
            render_text(chosen.subject, context, field="subject")
            render_text(chosen.body, context, field="body")
        except TemplateInvalid as exc:
            failing.append(Skip(recipient.candidate.pk, recipient.candidate.full_name, render_skip_reason(exc)))
            continue
        renderable.append(recipient)
    chosen_few = random.sample(renderable, min(sample, len(renderable)))  # noqa: S311 - a preview, not a secret
    previews = [(r, bulk_render(sender=user, template=template, recipient=r, job=job)) for r in chosen_few]
    return previews, failing


def render_skip_reason(exc: ValidationFailed) -> str:
    return f"The template could not be filled in: {exc.message}"
