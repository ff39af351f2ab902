"""Writes for what the team shares with a person through the portal: document requests and their uploads, and
feedback a recruiter chose to share on an application.

Recruiters act with their capability and scope checked here; the person acts through the portal with no actor,
on rows the portal selectors already scoped to them.
"""

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, ensure
from rapport.candidates.models import Attachment, AttachmentKind, Candidate
from rapport.candidates.uploads import DOCX, JPEG, PDF, PNG, UploadRule, attachment_store
from rapport.common.errors import Conflict, FieldErrors, ValidationFailed
from rapport.pipeline.models import Application
from rapport.portal.models import DocumentRequest, DocumentRequestStatus, SharedFeedback
from rapport.portal.services import RateLimitExceeded, _count
from rapport.timeline.services import activity_record

MAX_DOCUMENT_NAME = 120
MAX_INSTRUCTIONS = 2_000
MAX_FEEDBACK = 5_000
UPLOADS_PER_HOUR = 20
# What a requested document may be, judged by its contents.
DOCUMENT_RULE = UploadRule(
    types={"pdf": PDF, "docx": DOCX, "jpeg": JPEG, "png": PNG},
    field="file",
    refusal="Upload a PDF, a Word (.docx) file, or a JPEG or PNG image.",
)


def _plain(value: Any) -> str:
    """Text as typed, with Windows line ends folded and control characters (other than newlines and tabs) dropped."""
    text = str(value or "").replace("\r\n", "\n").strip()
    return "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())


def _literal(text: str) -> str:
    """A value placed in a message body as a template string literal, so braces in it are never read as template
    syntax (a document called "{{ candidate.email }}" stays those characters)."""
    return "{{ " + json.dumps(text, ensure_ascii=False) + " }}"


@dataclass(frozen=True)
class DocumentRequestOutcome:
    request: DocumentRequest
    emailed: bool
    email_problem: str = ""


def _due_on(value: Any, errors: FieldErrors) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        due = value
    else:
        try:
            due = date.fromisoformat(str(value))
        except ValueError:
            errors.add("due_on", "Give the date as YYYY-MM-DD.")
            return None
    if due < timezone.localdate():
        errors.add("due_on", "The due date is in the past.")
        return None
    return due


def _request_email(*, name: str, instructions: str, due_on: date | None) -> tuple[str, str]:
    subject = "Please send us a document: " + _literal(name)
    lines = [
        "Hi {{ candidate.first_name }},",
        "",
        "To continue with your application, please upload this document in your candidate portal: **"
        + _literal(name)
        + "**.",
    ]
    if instructions:
        lines += ["", _literal(instructions)]
    if due_on is not None:
        lines += ["", f"Please send it by {due_on.day} {due_on:%B %Y}."]
    lines += [
        "",
        "[Upload it in your portal]({{ portal_link }}) (the link signs you in once and works for 14 days).",
        "",
        "Thank you,",
        "{{ company.name }}",
    ]
    return subject, "\n".join(lines)


@transaction.atomic
def document_request_create(
    *,
    actor: User,
    candidate: Candidate,
    name: str,
    instructions: str = "",
    due_on: Any = None,
    application: Application | None = None,
) -> DocumentRequestOutcome:
    """Ask a person for a document: the request, `document.requested` on their timeline, and an email with a
    sign-in link to the portal.

    The request stands when the email cannot go (no address, unsubscribed, do-not-contact): the person still sees
    it in the portal, and the outcome says why no email went so the recruiter can reach them another way.
    """
    from rapport.messaging.services_automated import message_send_automated

    ensure(actor, Capability.SEND_MESSAGES)
    errors = FieldErrors()
    name = " ".join(_plain(name).split())
    instructions = _plain(instructions)
    if not name:
        errors.add("name", "Name the document, for example “Work permit”.")
    elif len(name) > MAX_DOCUMENT_NAME:
        errors.add("name", f"Keep the name under {MAX_DOCUMENT_NAME} characters.")
    if len(instructions) > MAX_INSTRUCTIONS:
        errors.add("instructions", f"Keep the instructions under {MAX_INSTRUCTIONS} characters.")
    due = _due_on(due_on, errors)
    if application is not None and application.candidate_id != candidate.pk:
        errors.add("application_id", "Choose one of this person’s applications.")
    if candidate.erased_at is not None:
        errors.add("candidate_id", "This person’s data was erased.")
    errors.raise_if_any()

    request = DocumentRequest.objects.create(
        candidate=candidate,
        application=application,
        name=name,
        instructions=instructions,
        due_on=due,
        requested_by=actor,
    )
    activity_record(
        type="document.requested",
        candidate=candidate,
        application=application,
        job=application.job if application is not None else None,
        actor=actor,
        payload={"request_id": request.pk, "name": name, "due_on": due.isoformat() if due else None},
    )
    subject, body = _request_email(name=name, instructions=instructions, due_on=due)
    try:
        # A savepoint: a refused email leaves the request (and its event) in place.
        with transaction.atomic():
            message_send_automated(
                candidate=candidate, subject=subject, body=body, application=application, sender=actor
            )
    except ValidationFailed as exc:
        return DocumentRequestOutcome(request=request, emailed=False, email_problem=exc.message)
    return DocumentRequestOutcome(request=request, emailed=True)


@transaction.atomic
def document_upload(*, candidate: Candidate, document_request: DocumentRequest, upload: UploadedFile) -> Attachment:
    """The person sends a requested document: stored as their attachment, `document.uploaded`, request received.

    `document_request` comes from `portal_document_request_get`, so it is the person's own; the check below is a
    second line, not the scope.
    """
    if document_request.candidate_id != candidate.pk:
        raise ValidationFailed.single("file", "This request is not yours.")
    # Locked so two uploads at once cannot both fill the same request.
    locked = DocumentRequest.objects.select_for_update().get(pk=document_request.pk)
    if locked.status == DocumentRequestStatus.RECEIVED:
        raise Conflict("We already have this document. To change it, send the team a message.")
    if _count(f"upload:{candidate.pk}", 3600) > UPLOADS_PER_HOUR:
        raise RateLimitExceeded("You uploaded several files in a short time. Please wait a little and try again.")
    attachment = attachment_store(
        candidate=candidate, upload=upload, rule=DOCUMENT_RULE, kind=AttachmentKind.OTHER, uploaded_by=None
    )
    now = timezone.now()
    locked.status = DocumentRequestStatus.RECEIVED
    locked.attachment = attachment
    locked.received_at = now
    locked.save(update_fields=["status", "attachment", "received_at"])
    application = locked.application
    activity_record(
        type="document.uploaded",
        candidate=candidate,
        application=application,
        job=application.job if application is not None else None,
        occurred_at=now,
        payload={
            "attachment_id": attachment.pk,
            "name": attachment.original_name,
            "kind": AttachmentKind.OTHER,
            "request_id": locked.pk,
            "request": locked.name,
        },
    )
    document_request.status, document_request.received_at = locked.status, now
    document_request.attachment = attachment
    return attachment


@transaction.atomic
def feedback_share(*, actor: User, application: Application, text: str, share: bool) -> SharedFeedback:
    """Share feedback with the person on one application; only text written and ticked for them is shared.

    `share` is the explicit "share with candidate" tick: without it nothing is saved, so a text meant for the team
    can never be shared by pressing the wrong button.
    """
    ensure(actor, Capability.SEND_MESSAGES)
    errors = FieldErrors()
    cleaned = _plain(text)
    if not cleaned:
        errors.add("text", "Write the feedback the candidate will read.")
    elif len(cleaned) > MAX_FEEDBACK:
        errors.add("text", f"Keep the feedback under {MAX_FEEDBACK} characters.")
    if share is not True:
        errors.add("share", "Tick “Share with candidate” to confirm that the candidate may read this.")
    if application.candidate.erased_at is not None:
        errors.add("application_id", "This person’s data was erased.")
    errors.raise_if_any()
    feedback = SharedFeedback.objects.create(application=application, text=cleaned, shared_by=actor)
    snippet = cleaned if len(cleaned) <= 140 else cleaned[:139] + "…"
    activity_record(
        type="feedback.shared",
        candidate=application.candidate,
        application=application,
        job=application.job,
        actor=actor,
        payload={"feedback_id": feedback.pk, "job": application.job.title, "snippet": snippet},
    )
    return feedback
