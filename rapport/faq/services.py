"""Writes for the FAQ: the knowledge base, questions it could not answer, and passing a question to a recruiter.

Passing a question on makes an inbound message on the person's thread (`message_receive`), so it reaches the
recruiter's inbox like a reply. From the portal the person is known; from the career site we ask for an email and
find or create that person as a lead.
"""

import uuid
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, ensure
from rapport.candidates.models import Candidate, CandidateEmail, RelationshipStatus
from rapport.candidates.normalise import normalise_email
from rapport.candidates.services import candidate_create
from rapport.common.errors import Duplicate, FieldErrors, ValidationFailed
from rapport.faq.models import FaqEntry, UnansweredQuestion
from rapport.faq.ranking import tokenize
from rapport.faq.selectors import FaqAnswer, faq_search, index_cache_key
from rapport.jobs.models import Job
from rapport.messaging.models import Message
from rapport.messaging.services_inbound import message_receive
from rapport.timeline.services import audit_record

MAX_QUESTION = 500
MAX_ANSWER = 20_000
PASS_ON_SUBJECT = "Question from the FAQ assistant"
LEAD_SOURCE = "career site FAQ"


def _clean_question(text: str) -> str:
    cleaned = " ".join("".join(ch for ch in str(text or "") if ch.isprintable() or ch in "\n\t").split())
    if not cleaned:
        raise ValidationFailed.single("question", "Type your question first.")
    if len(cleaned) > MAX_QUESTION:
        raise ValidationFailed.single("question", f"Keep the question under {MAX_QUESTION} characters.")
    return cleaned


def faq_index_invalidate(stale_key: str) -> None:
    """Drop the index cached before a change once the change commits; the next question rebuilds it.

    The caller reads `stale_key` before writing: afterwards the fingerprint already names the new index.
    """
    transaction.on_commit(lambda: cache.delete(stale_key))


# --- the knowledge base ---------------------------------------------------------------------------------------------


def _clean_entry(data: dict[str, Any]) -> dict[str, Any]:
    errors = FieldErrors()
    question = " ".join(str(data.get("question") or "").split())
    answer = str(data.get("answer") or "").strip()
    published = bool(data.get("published"))
    if not question:
        errors.add("question", "Write the question.")
    elif len(question) > 300:
        errors.add("question", "Keep the question under 300 characters.")
    if len(answer) > MAX_ANSWER:
        errors.add("answer", f"Keep the answer under {MAX_ANSWER} characters.")
    if published and not answer:
        errors.add("answer", "Write an answer before publishing.")
    job = data.get("job")
    if job is not None and not isinstance(job, Job):
        errors.add("job", "Choose a job from the list.")
    department = " ".join(str(data.get("department") or "").split())[:100]
    errors.raise_if_any()
    return {"question": question, "answer": answer, "published": published, "job": job, "department": department}


@transaction.atomic
def faq_entry_create(*, actor: User, data: dict[str, Any]) -> FaqEntry:
    ensure(actor, Capability.MANAGE_TEMPLATES)
    stale_key = index_cache_key()
    entry = FaqEntry.objects.create(created_by=actor, **_clean_entry(data))
    audit_record(
        actor=actor, action="create", object_type="faq_entry", object_id=entry.pk, changes={"question": entry.question}
    )
    faq_index_invalidate(stale_key)
    return entry


@transaction.atomic
def faq_entry_update(*, actor: User, entry: FaqEntry, data: dict[str, Any]) -> FaqEntry:
    ensure(actor, Capability.MANAGE_TEMPLATES)
    fields = _clean_entry(data)
    stale_key = index_cache_key()
    changes = {k: (v.pk if isinstance(v, Job) else v) for k, v in fields.items() if getattr(entry, k) != v}
    for name, value in fields.items():
        setattr(entry, name, value)
    entry.updated_at = timezone.now()
    entry.save()
    audit_record(actor=actor, action="update", object_type="faq_entry", object_id=entry.pk, changes=changes)
    faq_index_invalidate(stale_key)
    return entry


@transaction.atomic
def faq_entry_delete(*, actor: User, entry: FaqEntry) -> None:
    ensure(actor, Capability.MANAGE_TEMPLATES)
    stale_key = index_cache_key()
    audit_record(
        actor=actor, action="delete", object_type="faq_entry", object_id=entry.pk, changes={"question": entry.question}
    )
    entry.delete()
    faq_index_invalidate(stale_key)


# --- asking ---------------------------------------------------------------------------------------------------------


def question_key(text: str) -> str:
    """One key per wording that means the same to the ranker, so "Parking?" and "parking" count together."""
    words = tokenize(text)
    return (" ".join(words) if words else " ".join(text.lower().split()))[:300]


def unanswered_record(*, text: str, at: datetime | None = None) -> UnansweredQuestion:
    at = at or timezone.now()
    key = question_key(text)
    updated = UnansweredQuestion.objects.filter(key=key).update(
        count=F("count") + 1, last_asked_at=at, text=text[:500], resolved_at=None
    )
    if not updated:
        try:
            with transaction.atomic():
                return UnansweredQuestion.objects.create(key=key, text=text[:500], first_asked_at=at, last_asked_at=at)
        except IntegrityError:  # asked twice at the same moment: the other request made the row
            UnansweredQuestion.objects.filter(key=key).update(count=F("count") + 1, last_asked_at=at)
    return UnansweredQuestion.objects.get(key=key)


@transaction.atomic
def faq_ask(*, question: str, job_ids: set[int] | None = None, departments: set[str] | None = None) -> FaqAnswer:
    """Answer from the FAQ; a question below the confidence threshold is counted for the recruiters' list."""
    text = _clean_question(question)
    answer = faq_search(question=text, job_ids=job_ids, departments=departments)
    if not answer.confident:
        unanswered_record(text=text)
    return answer


@transaction.atomic
def unanswered_convert(*, actor: User, item: UnansweredQuestion) -> FaqEntry:
    """Turn an unanswered question into a draft entry (unpublished until someone writes the answer)."""
    ensure(actor, Capability.MANAGE_TEMPLATES)
    item = UnansweredQuestion.objects.select_for_update().get(pk=item.pk)
    if item.entry_id is not None and item.resolved_at is not None:
        return item.entry
    entry = faq_entry_create(actor=actor, data={"question": item.text[:300], "answer": "", "published": False})
    item.entry = entry
    item.resolved_at = timezone.now()
    item.save(update_fields=["entry", "resolved_at"])
    return entry


@transaction.atomic
def unanswered_dismiss(*, actor: User, item: UnansweredQuestion) -> None:
    ensure(actor, Capability.MANAGE_TEMPLATES)
    UnansweredQuestion.objects.filter(pk=item.pk).update(resolved_at=timezone.now())


# --- passing a question on ------------------------------------------------------------------------------------------


def _primary(candidate: Candidate) -> str:
    return candidate.emails.order_by("position", "id").values_list("email", flat=True).first() or ""


def _pass_on(candidate: Candidate, text: str, *, origin: str) -> Message:
    return message_receive(
        candidate=candidate,
        channel="email",
        from_address=_primary(candidate),
        to_address=origin,
        subject=PASS_ON_SUBJECT,
        text=f"{text}\n\n(Asked in the {origin.replace('-', ' ')} FAQ assistant, which had no answer.)",
        message_id=f"<{uuid.uuid4().hex}@faq.rapport>",
    )


@transaction.atomic
def faq_pass_on_portal(*, candidate: Candidate, question: str) -> Message:
    """A signed-in person sends the question the assistant could not answer to the team."""
    return _pass_on(candidate, _clean_question(question), origin="portal")


@transaction.atomic
def faq_pass_on_career_site(*, email: str, first_name: str, question: str) -> Message:
    """A visitor leaves their email with the question: the person with that email, or a new lead, gets it."""
    errors = FieldErrors()
    text = errors.capture(_clean_question, question)
    address = ""
    if not str(email or "").strip():
        errors.add("email", "Give your email so we can answer.")
    else:
        address = errors.capture(normalise_email, str(email), field="email") or ""
    first = " ".join(str(first_name or "").split())[:100]
    errors.raise_if_any()
    row = CandidateEmail.objects.filter(email=address).select_related("candidate").first()
    candidate = row.candidate if row is not None and row.candidate.erased_at is None else None
    if candidate is None:
        data = {
            "first_name": first or address.split("@")[0][:100],
            "emails": [address],
            "source": LEAD_SOURCE,
            "relationship_status": RelationshipStatus.LEAD,
        }
        try:
            with transaction.atomic():
                candidate = candidate_create(actor=None, data=data, check_permission=False)
        except Duplicate:
            # The same address arrived twice at once (or belongs to an erased record): use whoever holds it.
            row = CandidateEmail.objects.filter(email=address).select_related("candidate").first()
            if row is None or row.candidate.erased_at is not None:
                raise ValidationFailed.single("email", "We cannot use this email address. Please use another.")
            candidate = row.candidate
    elif first and not candidate.first_name:
        Candidate.objects.filter(pk=candidate.pk).update(first_name=first)
    return _pass_on(candidate, text, origin="career-site")
