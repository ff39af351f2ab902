"""Every write to people, contact points, tags, pools, segments and attachments goes through here."""

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, ensure
from rapport.candidates.engagement import engagement_keep_higher
from rapport.candidates.models import (
    Attachment,
    AttachmentKind,
    Candidate,
    CandidateEmail,
    CandidatePhone,
    CandidateTag,
    Channel,
    CustomFieldDefinition,
    CustomFieldType,
    PoolMembership,
    RelationshipStatus,
    Segment,
    Tag,
    TalentPool,
)
from rapport.candidates.normalise import (
    normalise_email,
    normalise_phone,
    phone_search_tokens,
    validate_birthday,
    validate_country,
    validate_timezone,
)
from rapport.candidates.uploads import FileType, UploadRule, attachment_store
from rapport.common.errors import Duplicate, FieldErrors, NotFound, ValidationFailed
from rapport.search import backends as search_backend
from rapport.timeline.models import Activity, Note
from rapport.timeline.services import activity_record, audit_record

SIMPLE_TEXT_FIELDS = {
    "first_name": 100,
    "last_name": 100,
    "headline": 200,
    "current_title": 150,
    "current_company": 150,
    "language": 10,
    "source": 50,
}
TRACKED_FIELDS = [
    *SIMPLE_TEXT_FIELDS,
    "city",
    "region",
    "country",
    "timezone",
    "skills",
    "links",
    "owner_id",
    "relationship_status",
    "birthday",
    "preferred_channel",
    "custom_fields",
]
ALLOWED_ATTACHMENT_TYPES = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".rtf": "application/rtf",
    ".txt": "text/plain",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
_MAGIC = {
    ".pdf": b"%PDF",
    ".docx": b"PK",
    ".odt": b"PK",
    ".png": b"\x89PNG",
    ".jpg": b"\xff\xd8",
    ".jpeg": b"\xff\xd8",
}


def _clean_string_list(
    value: Any, field: str, errors: FieldErrors, *, max_items: int = 100, max_len: int = 200
) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [part for part in value.split(",")]
    if not isinstance(value, list | tuple):
        errors.add(field, "Give a list of text values.")
        return []
    cleaned: list[str] = []
    seen: set[str] = set()
    for item in value:
        text = str(item).strip()
        if not text:
            continue
        if len(text) > max_len:
            errors.add(field, f"{text[:30]}… is longer than {max_len} characters.")
            continue
        key = text.lower()
        if key not in seen:
            seen.add(key)
            cleaned.append(text)
    if len(cleaned) > max_items:
        errors.add(field, f"Use at most {max_items} entries.")
    return cleaned


def custom_field_definitions_by_key() -> dict[str, CustomFieldDefinition]:
    """The definitions validation checks custom values against; a bulk writer loads them once and passes them in."""
    return {d.key: d for d in CustomFieldDefinition.objects.all()}


def _clean_custom_fields(
    value: Any, errors: FieldErrors, definitions: dict[str, CustomFieldDefinition] | None = None
) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        errors.add("custom_fields", "Give custom fields as an object of key: value.")
        return {}
    if definitions is None:
        definitions = custom_field_definitions_by_key()
    cleaned: dict[str, Any] = {}
    for key, raw in value.items():
        field = f"custom_fields.{key}"
        definition = definitions.get(key)
        if definition is None:
            errors.add(field, f"There is no custom field called {key!r}. An admin can add it in Settings.")
            continue
        if raw in (None, ""):
            continue
        kind = definition.field_type
        try:
            if kind == CustomFieldType.NUMBER:
                number = float(raw)
                cleaned[key] = int(number) if number.is_integer() else number
            elif kind == CustomFieldType.BOOLEAN:
                if isinstance(raw, bool):
                    cleaned[key] = raw
                elif str(raw).lower() in {"true", "yes", "1"}:
                    cleaned[key] = True
                elif str(raw).lower() in {"false", "no", "0"}:
                    cleaned[key] = False
                else:
                    raise ValueError
            elif kind == CustomFieldType.DATE:
                cleaned[key] = date.fromisoformat(str(raw)).isoformat()
            elif kind == CustomFieldType.CHOICE:
                if str(raw) not in definition.choices:
                    errors.add(field, f"Choose one of: {', '.join(definition.choices)}.")
                    continue
                cleaned[key] = str(raw)
            elif kind == CustomFieldType.URL:
                text = str(raw).strip()
                if not text.startswith(("http://", "https://")):
                    raise ValueError
                cleaned[key] = text
            else:
                cleaned[key] = str(raw)[:1000]
        except (TypeError, ValueError):
            errors.add(field, f"{definition.label} must be a {definition.get_field_type_display().lower()}.")
    return cleaned


def _clean(
    data: dict[str, Any],
    *,
    partial: bool,
    default_region: str | None = None,
    definitions: dict[str, CustomFieldDefinition] | None = None,
) -> dict[str, Any]:
    """Validate API-shaped candidate data into model values; raises one ValidationFailed with every field.

    `default_region` is the person's stored country, the hint for national phone numbers when an update
    changes phones without restating the location. `definitions` are the custom field definitions, read
    from the database when not given.
    """
    errors = FieldErrors()
    out: dict[str, Any] = {}
    for field, max_len in SIMPLE_TEXT_FIELDS.items():
        if field in data:
            text = (data[field] or "").strip() if isinstance(data[field], str | type(None)) else None
            if text is None:
                errors.add(field, "Must be text.")
            elif len(text) > max_len:
                errors.add(field, f"Use at most {max_len} characters.")
            else:
                out[field] = text
    if (not partial or "first_name" in data) and not out.get("first_name"):
        errors.add("first_name", "A first name is required.")

    if "location" in data:
        location = data["location"] or {}
        if not isinstance(location, dict):
            errors.add("location", "Give the location as {city, region, country}.")
        else:
            out["city"] = str(location.get("city") or "").strip()[:100]
            out["region"] = str(location.get("region") or "").strip()[:100]
            out["country"] = errors.capture(validate_country, location.get("country") or "") or ""
    if "timezone" in data:
        out["timezone"] = errors.capture(validate_timezone, data["timezone"] or "") or ""
    if "skills" in data:
        out["skills"] = _clean_string_list(data["skills"], "skills", errors, max_len=60)
    if "links" in data:
        links = _clean_string_list(data["links"], "links", errors, max_items=20, max_len=500)
        for link in links:
            if not link.startswith(("http://", "https://")):
                errors.add("links", f"{link[:40]} is not a web address; it should start with https://.")
        out["links"] = links
    if "tags" in data:
        out["tags"] = _clean_string_list(data["tags"], "tags", errors, max_len=50)
    if "relationship_status" in data:
        if data["relationship_status"] not in RelationshipStatus.values:
            errors.add("relationship_status", f"Choose one of: {', '.join(RelationshipStatus.values)}.")
        else:
            out["relationship_status"] = data["relationship_status"]
    if "preferred_channel" in data:
        if data["preferred_channel"] not in Channel.values:
            errors.add("preferred_channel", f"Choose one of: {', '.join(Channel.values)}.")
        else:
            out["preferred_channel"] = data["preferred_channel"]
    if "birthday" in data:
        raw = data["birthday"]
        if raw in (None, ""):
            out["birthday"] = None
        else:
            try:
                parsed = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
                out["birthday"] = errors.capture(validate_birthday, parsed)
            except ValueError:
                errors.add("birthday", "Use a date like 1990-04-23.")
    if "owner_id" in data:
        owner_id = data["owner_id"]
        if owner_id in (None, ""):
            out["owner_id"] = None
        else:
            try:
                out["owner_id"] = User.objects.only("id").get(pk=int(owner_id), is_active=True).pk
            except (User.DoesNotExist, ValueError, TypeError):
                errors.add("owner_id", "There is no active team member with this id.")
    if "custom_fields" in data:
        out["custom_fields"] = _clean_custom_fields(data["custom_fields"], errors, definitions)
    if "emails" in data:
        emails = _clean_string_list(data["emails"], "emails", errors, max_items=10, max_len=254)
        out["emails"] = list(dict.fromkeys(e for e in (errors.capture(normalise_email, e) for e in emails) if e))
    if "phones" in data:
        phones = _clean_string_list(data["phones"], "phones", errors, max_items=10, max_len=40)
        region = out.get("country", default_region) or None
        out["phones"] = list(
            dict.fromkeys(p for p in (errors.capture(normalise_phone, p, region=region) for p in phones) if p)
        )
    errors.raise_if_any()
    return out


def candidate_clean(
    data: dict[str, Any],
    *,
    partial: bool = False,
    definitions: dict[str, CustomFieldDefinition] | None = None,
) -> dict[str, Any]:
    """Validate API-shaped person data by the rules create and update apply, without writing anything.

    Bulk writers (the CSV import) and previews use it, so a person is valid or not by one definition.
    Returns model values plus `emails`, `phones` and `tags`; raises one ValidationFailed naming every field.
    With `definitions` (from `custom_field_definitions_by_key`) it reads nothing from the database, so it can
    run on a thread of its own.
    """
    return _clean(data, partial=partial, definitions=definitions)


def _ensure_contacts_free(*, emails: Sequence[str], phones: Sequence[str], exclude_id: int | None) -> None:
    email_owner = (
        CandidateEmail.objects.filter(email__in=emails)
        .exclude(candidate_id=exclude_id)
        .values_list("candidate_id", "email")
        .first()
        if emails
        else None
    )
    if email_owner:
        raise Duplicate(
            f"{email_owner[1]} already belongs to another person.",
            existing_id=email_owner[0],
            fields={"emails": [f"{email_owner[1]} already belongs to another person."]},
        )
    phone_owner = (
        CandidatePhone.objects.filter(phone__in=phones)
        .exclude(candidate_id=exclude_id)
        .values_list("candidate_id", "phone")
        .first()
        if phones
        else None
    )
    if phone_owner:
        raise Duplicate(
            f"{phone_owner[1]} already belongs to another person.",
            existing_id=phone_owner[0],
            fields={"phones": [f"{phone_owner[1]} already belongs to another person."]},
        )


def _replace_contacts(candidate: Candidate, *, emails: Sequence[str] | None, phones: Sequence[str] | None) -> None:
    if emails is not None:
        CandidateEmail.objects.filter(candidate=candidate).delete()
        CandidateEmail.objects.bulk_create(
            [CandidateEmail(candidate=candidate, email=e, position=i) for i, e in enumerate(emails)]
        )
    if phones is not None:
        CandidatePhone.objects.filter(candidate=candidate).delete()
        CandidatePhone.objects.bulk_create(
            [CandidatePhone(candidate=candidate, phone=p, position=i) for i, p in enumerate(phones)]
        )


def _tag_objects(names: Iterable[str]) -> list[Tag]:
    names = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    existing = {t.name.lower(): t for t in Tag.objects.filter(name__in=names)}
    missing = [n for n in names if n.lower() not in existing]
    for name in missing:
        # Case-insensitive match first, so "Python" and "python" stay one tag.
        tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
        existing[name.lower()] = tag
    return [existing[n.lower()] for n in names]


def _set_tags(candidate: Candidate, names: Sequence[str], *, actor: User | None) -> None:
    wanted = {t.pk: t for t in _tag_objects(names)}
    current = {ct.tag_id: ct for ct in CandidateTag.objects.filter(candidate=candidate).select_related("tag")}
    for tag_id, tag in wanted.items():
        if tag_id not in current:
            CandidateTag.objects.create(candidate=candidate, tag=tag, added_by=actor)
            activity_record(type="tag.added", candidate=candidate, actor=actor, payload={"tag": tag.name})
    for tag_id, ct in current.items():
        if tag_id not in wanted:
            ct.delete()
            activity_record(type="tag.removed", candidate=candidate, actor=actor, payload={"tag": ct.tag.name})


def _value_for_audit(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


@transaction.atomic
def candidate_create(*, actor: User | None, data: dict[str, Any], check_permission: bool = True) -> Candidate:
    """Create a person. An email or phone that already belongs to someone raises Duplicate with their id."""
    if check_permission and actor is not None:
        ensure(actor, Capability.EDIT_CANDIDATES)
    cleaned = _clean(data, partial=False)
    emails = cleaned.pop("emails", [])
    phones = cleaned.pop("phones", [])
    tags = cleaned.pop("tags", [])
    _ensure_contacts_free(emails=emails, phones=phones, exclude_id=None)
    if "owner_id" not in cleaned and actor is not None and actor.is_authenticated and actor.has_full_access:
        cleaned["owner_id"] = actor.pk
    now = timezone.now()
    try:
        with transaction.atomic():
            candidate = Candidate.objects.create(created_at=now, updated_at=now, **cleaned)
            _replace_contacts(candidate, emails=emails, phones=phones)
    except IntegrityError:
        # Another request took the address between our check and our insert.
        _ensure_contacts_free(emails=emails, phones=phones, exclude_id=None)
        raise
    if tags:
        _set_tags(candidate, tags, actor=actor)
    activity_record(
        type="candidate.created",
        candidate=candidate,
        actor=actor,
        occurred_at=now,
        payload={"source": candidate.source, "name": candidate.full_name},
    )
    audit_record(actor=actor, action="create", object_type="candidate", object_id=candidate.pk)
    candidate_reindex(candidate_ids=[candidate.pk])
    return candidate


@transaction.atomic
def candidate_update(*, actor: User | None, candidate: Candidate, data: dict[str, Any]) -> Candidate:
    """Change fields; lists (emails, phones, skills, tags, links) are replaced whole."""
    if actor is not None:
        ensure(actor, Capability.EDIT_CANDIDATES)
    cleaned = _clean(data, partial=True, default_region=candidate.country)
    emails = cleaned.pop("emails", None)
    phones = cleaned.pop("phones", None)
    tags = cleaned.pop("tags", None)
    _ensure_contacts_free(emails=emails or [], phones=phones or [], exclude_id=candidate.pk)

    changes: dict[str, list[Any]] = {}
    for field, value in cleaned.items():
        old = getattr(candidate, field)
        if old != value:
            changes[field] = [_value_for_audit(old), _value_for_audit(value)]
            setattr(candidate, field, value)
    if emails is not None:
        old_emails = list(candidate.emails.values_list("email", flat=True))
        if old_emails != emails:
            changes["emails"] = [old_emails, emails]
            _replace_contacts(candidate, emails=emails, phones=None)
    if phones is not None:
        old_phones = list(candidate.phones.values_list("phone", flat=True))
        if old_phones != phones:
            changes["phones"] = [old_phones, phones]
            _replace_contacts(candidate, emails=None, phones=phones)
    if tags is not None:
        _set_tags(candidate, tags, actor=actor)
    if changes:
        candidate.updated_at = timezone.now()
        candidate.save()
        activity_record(type="candidate.updated", candidate=candidate, actor=actor, payload={"fields": sorted(changes)})
        audit_record(actor=actor, action="update", object_type="candidate", object_id=candidate.pk, changes=changes)
    candidate_reindex(candidate_ids=[candidate.pk])
    return candidate


def candidate_touch(*, candidate: Candidate, at: datetime | None = None) -> None:
    """Mark a person as recently active, without a full save (notes, moves, pool changes)."""
    Candidate.objects.filter(pk=candidate.pk).update(updated_at=at or timezone.now())


def candidate_set_status(*, actor: User | None, candidate: Candidate, status: str) -> None:
    if candidate.relationship_status == status:
        return
    candidate_update(actor=actor, candidate=candidate, data={"relationship_status": status})


def build_documents(candidate_ids: Sequence[int]) -> list[search_backend.CandidateDocument]:
    candidates = Candidate.objects.filter(pk__in=candidate_ids, erased_at__isnull=True)
    emails: dict[int, list[str]] = {}
    for cid, email in CandidateEmail.objects.filter(candidate_id__in=candidate_ids).values_list(
        "candidate_id", "email"
    ):
        emails.setdefault(cid, []).append(email)
    phones: dict[int, list[str]] = {}
    for cid, phone in CandidatePhone.objects.filter(candidate_id__in=candidate_ids).values_list(
        "candidate_id", "phone"
    ):
        phones.setdefault(cid, []).append(phone)
    tags: dict[int, list[str]] = {}
    for cid, name in CandidateTag.objects.filter(candidate_id__in=candidate_ids).values_list(
        "candidate_id", "tag__name"
    ):
        tags.setdefault(cid, []).append(name)
    notes: dict[int, list[str]] = {}
    for cid, body in Note.objects.filter(candidate_id__in=candidate_ids).values_list("candidate_id", "body"):
        notes.setdefault(cid, []).append(body)
    return [
        candidate_document(
            c,
            emails=emails.get(c.pk, []),
            phones=phones.get(c.pk, []),
            tags=tags.get(c.pk, []),
            notes=notes.get(c.pk, []),
        )
        for c in candidates
    ]


def candidate_document(
    candidate: Any, *, emails: Sequence[str], phones: Sequence[str], tags: Sequence[str], notes: Sequence[str]
) -> search_backend.CandidateDocument:
    """One person's search document from data in hand; bulk writers (the CSV import) skip re-reading it.

    `candidate` is a Candidate, or any object with its pk, full_name, headline, current_title,
    current_company, city, region, country and skills.
    """
    c = candidate
    return search_backend.CandidateDocument(
        candidate_id=c.pk,
        name=c.full_name,
        contact=" ".join([*emails, *(token for phone in phones for token in phone_search_tokens(phone))]),
        work=" ".join([c.headline, c.current_title, c.current_company, c.city, c.region, c.country]),
        skills=" ".join([*c.skills, *tags]),
        notes=" ".join(notes)[:20_000],
    )


def candidate_reindex(*, candidate_ids: Sequence[int]) -> None:
    search_backend.index_documents(build_documents(candidate_ids))


_RELATIONSHIP_LADDER = [
    RelationshipStatus.LEAD,
    RelationshipStatus.CONTACTED,
    RelationshipStatus.ENGAGED,
    RelationshipStatus.NURTURING,
    RelationshipStatus.APPLICANT,
    RelationshipStatus.HIRED,
    RelationshipStatus.ALUMNI,
]


def _merged_relationship_status(survivor: str, merged: str) -> str:
    """The furthest-along status of the two records; an opt-out on either record is kept, whatever the other says."""
    if RelationshipStatus.DO_NOT_CONTACT in (survivor, merged):
        return RelationshipStatus.DO_NOT_CONTACT
    rank = {status.value: i for i, status in enumerate(_RELATIONSHIP_LADDER)}
    return max(survivor, merged, key=lambda status: rank.get(status, -1))


def _union_ignoring_case(first: Sequence[str], second: Sequence[str]) -> list[str]:
    """Keep `first` as it is and add what `second` has beyond it, the way create and update dedupe lists."""
    seen = {str(item).lower() for item in first}
    extra = []
    for item in second:
        if str(item).lower() not in seen:
            seen.add(str(item).lower())
            extra.append(item)
    return [*first, *extra]


@transaction.atomic
def candidate_merge(*, actor: User | None, survivor: Candidate, merged: Candidate) -> Candidate:
    """Move everything from `merged` onto `survivor`, record the merge, and delete the merged record."""
    if actor is not None:
        ensure(actor, Capability.MERGE_CANDIDATES)
    if survivor.pk == merged.pk:
        raise ValidationFailed.single("merged_id", "A person cannot be merged into themselves.")
    from rapport.pipeline.models import Application, StageTransition

    snapshot = {
        "merged_id": str(merged.pk),
        "name": merged.full_name,
        "emails": list(merged.emails.values_list("email", flat=True)),
        "phones": list(merged.phones.values_list("phone", flat=True)),
    }
    filled: list[str] = []
    for field in [
        "last_name",
        "headline",
        "current_title",
        "current_company",
        "city",
        "region",
        "country",
        "timezone",
        "language",
        "source",
        "birthday",
        "owner_id",
    ]:
        if not getattr(survivor, field) and getattr(merged, field):
            setattr(survivor, field, getattr(merged, field))
            filled.append(field)
    status = _merged_relationship_status(survivor.relationship_status, merged.relationship_status)
    if status != survivor.relationship_status:
        survivor.relationship_status = status
        filled.append("relationship_status")
    survivor.skills = _union_ignoring_case(survivor.skills, merged.skills)
    survivor.links = _union_ignoring_case(survivor.links, merged.links)
    survivor.custom_fields = {**merged.custom_fields, **survivor.custom_fields}
    engagement_keep_higher(survivor=survivor, merged=merged)

    email_offset = (survivor.emails.aggregate(m=Max("position"))["m"] or 0) + 1
    phone_offset = (survivor.phones.aggregate(m=Max("position"))["m"] or 0) + 1
    for i, email in enumerate(merged.emails.all()):
        email.candidate = survivor
        email.position = email_offset + i
        email.save(update_fields=["candidate", "position"])
    for i, phone in enumerate(merged.phones.all()):
        phone.candidate = survivor
        phone.position = phone_offset + i
        phone.save(update_fields=["candidate", "position"])

    survivor_jobs = dict(Application.objects.filter(candidate=survivor).values_list("job_id", "id"))
    moved_applications, combined_applications = 0, 0
    for application in Application.objects.filter(candidate=merged):
        if application.job_id in survivor_jobs:
            # Both applied to the same job: keep the survivor's application and fold the history into it.
            keep_id = survivor_jobs[application.job_id]
            StageTransition.objects.filter(application=application).update(application_id=keep_id)
            Activity.objects.filter(application=application).update(application_id=keep_id)
            from rapport.portal.models import SharedFeedback

            SharedFeedback.objects.filter(application=application).update(application_id=keep_id)
            # Whoever interviewed the merged record keeps seeing the person.
            Application.objects.get(pk=keep_id).interviewers.add(*application.interviewers.all())
            application.delete()
            combined_applications += 1
        else:
            application.candidate = survivor
            application.save(update_fields=["candidate"])
            moved_applications += 1

    Activity.objects.filter(candidate=merged).update(candidate=survivor)
    Note.objects.filter(candidate=merged).update(candidate=survivor)
    Attachment.objects.filter(candidate=merged).update(candidate=survivor)
    from rapport.messaging.models import Message

    Message.objects.filter(candidate=merged).update(candidate=survivor)
    survivor_tags = set(CandidateTag.objects.filter(candidate=survivor).values_list("tag_id", flat=True))
    CandidateTag.objects.filter(candidate=merged).exclude(tag_id__in=survivor_tags).update(candidate=survivor)
    survivor_pools = set(PoolMembership.objects.filter(candidate=survivor).values_list("pool_id", flat=True))
    PoolMembership.objects.filter(candidate=merged).exclude(pool_id__in=survivor_pools).update(candidate=survivor)
    from rapport.notifications.models import Follow, Notification

    # Whoever followed either record follows the person; their notifications about the merged record stay theirs.
    survivor_followers = set(Follow.objects.filter(candidate=survivor).values_list("user_id", flat=True))
    Follow.objects.filter(candidate=merged).exclude(user_id__in=survivor_followers).update(candidate=survivor)
    Notification.objects.filter(candidate=merged).update(candidate=survivor)
    _merge_automation_and_portal(survivor=survivor, merged=merged)

    search_backend.remove_documents([merged.pk])
    merged.delete()
    survivor.updated_at = timezone.now()
    survivor.save()
    activity_record(
        type="candidate.merged",
        candidate=survivor,
        actor=actor,
        payload={
            **snapshot,
            "fields_filled": filled,
            "applications_moved": moved_applications,
            "applications_combined": combined_applications,
        },
    )
    audit_record(actor=actor, action="merge", object_type="candidate", object_id=survivor.pk, changes=snapshot)
    candidate_reindex(candidate_ids=[survivor.pk])
    return survivor


def _merge_automation_and_portal(*, survivor: Candidate, merged: Candidate) -> None:
    """Tasks, sequences, trigger runs, document requests, portal settings and surveys follow the person."""
    from rapport.automation.models import ENROLMENT_OPEN, Enrolment, EnrolmentStatus, Task, TriggerRun
    from rapport.portal.models import DocumentRequest, PortalPreferences
    from rapport.surveys.models import SurveyInvitation, SurveyResponse

    Task.objects.filter(candidate=merged).update(candidate=survivor)
    TriggerRun.objects.filter(candidate=merged).update(candidate=survivor)
    # A person is in a sequence once: where both records walk the same one, the survivor keeps its place.
    walking = Enrolment.objects.filter(candidate=survivor, status__in=ENROLMENT_OPEN).values_list("sequence_id")
    Enrolment.objects.filter(candidate=merged, status__in=ENROLMENT_OPEN, sequence_id__in=walking).update(
        status=EnrolmentStatus.EXITED,
        status_reason="Merged into another record that is in this sequence.",
        exited_at=timezone.now(),
        due_at=None,
    )
    Enrolment.objects.filter(candidate=merged).update(candidate=survivor)
    DocumentRequest.objects.filter(candidate=merged).update(candidate=survivor)
    if not PortalPreferences.objects.filter(candidate=survivor).exists():
        PortalPreferences.objects.filter(candidate=merged).update(candidate=survivor)
    # The cool-down between surveys counts every invitation the person got, under either record.
    SurveyInvitation.objects.filter(candidate=merged).update(candidate=survivor)
    SurveyResponse.objects.filter(candidate=merged).update(candidate=survivor)


def _erase_automation_and_portal(candidate: Candidate) -> None:
    """What the portal, surveys and automation hold about the person: words go, counts stay."""
    from rapport.automation.models import ENROLMENT_OPEN, Enrolment, EnrolmentStatus, TriggerRun, TriggerRunStatus
    from rapport.portal.models import DocumentRequest, PortalPreferences, SharedFeedback
    from rapport.surveys.models import SurveyAnswer, SurveyInvitation, SurveyResponse

    now = timezone.now()
    Enrolment.objects.filter(candidate=candidate, status__in=ENROLMENT_OPEN).update(
        status=EnrolmentStatus.EXITED, status_reason="The person's data was erased.", exited_at=now, due_at=None
    )
    TriggerRun.objects.filter(candidate=candidate, status=TriggerRunStatus.SCHEDULED).update(
        status=TriggerRunStatus.SKIPPED, detail="The person's data was erased.", finished_at=now
    )
    DocumentRequest.objects.filter(candidate=candidate).delete()
    SharedFeedback.objects.filter(application__candidate=candidate).delete()
    PortalPreferences.objects.filter(candidate=candidate).delete()
    SurveyInvitation.objects.filter(candidate=candidate).update(reason="")
    # Scores stay in the survey results, unattributed; written answers are the person's own words and go.
    responses = SurveyResponse.objects.filter(candidate=candidate)
    SurveyAnswer.objects.filter(response__in=responses).update(text="")
    responses.update(candidate=None, invitation=None)


@transaction.atomic
def candidate_erase(*, actor: User | None, candidate: Candidate) -> None:
    """Anonymise a person: personal data goes, applications and event types stay for aggregates."""
    if actor is not None:
        ensure(actor, Capability.ERASE_CANDIDATES)
    for attachment in candidate.attachments.all():
        attachment.file.delete(save=False)
    candidate.attachments.all().delete()
    candidate.emails.all().delete()
    candidate.phones.all().delete()
    candidate.notes.all().delete()
    CandidateTag.objects.filter(candidate=candidate).delete()
    PoolMembership.objects.filter(candidate=candidate).delete()
    Activity.objects.filter(candidate=candidate).update(payload={})
    from rapport.pipeline.models import Application
    from rapport.timeline.models import AuditEntry

    # Free text about the person goes too; the applications' jobs, stages and dates stay for reporting.
    Application.objects.filter(candidate=candidate).update(rejection_note="")
    _erase_automation_and_portal(candidate)
    from rapport.messaging.models import DUE_STATUSES, Message, MessageStatus

    # Messages keep their channel, status and dates for reporting; what was waiting is never sent, and the
    # words and addresses go.
    Message.objects.filter(candidate=candidate, status__in=DUE_STATUSES).update(
        status=MessageStatus.SUPPRESSED, next_attempt_at=None
    )
    Message.objects.filter(candidate=candidate).update(
        to_address="", subject="", html="", text="", last_error="", in_reply_to="", references=""
    )
    # The audit trail keeps who changed which field and when, but not the personal values themselves, including
    # those of the records merged into this one earlier (each merge entry names the record it absorbed).
    record_ids, frontier = {str(candidate.pk)}, [str(candidate.pk)]
    while frontier:
        merges = AuditEntry.objects.filter(object_type="candidate", action="merge", object_id__in=frontier)
        frontier = [str(m.changes.get("merged_id")) for m in merges if m.changes.get("merged_id")]
        frontier = [i for i in frontier if i not in record_ids]
        record_ids.update(frontier)
    audited = [e for e in AuditEntry.objects.filter(object_type="candidate", object_id__in=record_ids) if e.changes]
    for entry in audited:
        entry.changes = {"erased_fields": sorted(entry.changes)}
    AuditEntry.objects.bulk_update(audited, ["changes"])
    for field in [
        "last_name",
        "headline",
        "current_title",
        "current_company",
        "city",
        "region",
        "timezone",
        "source",
    ]:
        setattr(candidate, field, "")
    candidate.first_name = "Erased person"
    candidate.skills, candidate.links, candidate.custom_fields = [], [], {}
    candidate.birthday = None
    candidate.relationship_status = RelationshipStatus.DO_NOT_CONTACT
    candidate.erased_at = candidate.updated_at = timezone.now()
    candidate.save()
    search_backend.remove_documents([candidate.pk])
    activity_record(type="candidate.erased", candidate=candidate, actor=actor, payload={})
    audit_record(actor=actor, action="erase", object_type="candidate", object_id=candidate.pk)


def _upload_rule(upload: UploadedFile) -> UploadRule:
    """The profile's rule: the name's ending picks the type, and the contents must begin as that type's files do."""
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in ALLOWED_ATTACHMENT_TYPES:
        raise ValidationFailed.single(
            "file",
            f"{suffix or 'This file type'} is not accepted. Upload a PDF, Word, ODT, RTF, text or image file.",
        )
    file_type = FileType(ALLOWED_ATTACHMENT_TYPES[suffix], suffix, _MAGIC.get(suffix, b""))
    return UploadRule(
        types={suffix: file_type}, field="file", refusal=f"The file's contents are not a real {suffix} file."
    )


@transaction.atomic
def attachment_add(
    *, actor: User, candidate: Candidate, upload: UploadedFile, kind: str = AttachmentKind.OTHER
) -> Attachment:
    ensure(actor, Capability.EDIT_CANDIDATES)
    if kind not in AttachmentKind.values:
        raise ValidationFailed.single("kind", "Choose résumé, cover letter or other.")
    rule = _upload_rule(upload)
    name = Path(upload.name).name[:255]
    attachment = attachment_store(
        candidate=candidate, upload=upload, rule=rule, kind=kind, uploaded_by=actor, name=name
    )
    activity_record(
        type="document.uploaded",
        candidate=candidate,
        actor=actor,
        payload={"attachment_id": attachment.pk, "name": name, "kind": kind},
    )
    return attachment


@transaction.atomic
def attachment_delete(*, actor: User, attachment: Attachment) -> None:
    ensure(actor, Capability.EDIT_CANDIDATES)
    audit_record(
        actor=actor,
        action="delete",
        object_type="attachment",
        object_id=attachment.pk,
        changes={"name": attachment.original_name},
    )
    attachment.file.delete(save=False)
    attachment.delete()


def _known_candidate_ids(candidate_ids: Sequence[Any]) -> list[int]:
    """The ids of a bulk action, once each and in order; one unknown or erased id refuses the whole action."""
    try:
        ids = list(dict.fromkeys(int(c) for c in candidate_ids))
    except (TypeError, ValueError):
        raise ValidationFailed.single("candidate_ids", "Give people as a list of ids (whole numbers).")
    existing = set(Candidate.objects.filter(pk__in=ids, erased_at__isnull=True).values_list("id", flat=True))
    unknown = [cid for cid in ids if cid not in existing]
    if unknown:
        raise NotFound(f"No person with id {unknown[0]}.", fields={"candidate_ids": [f"Unknown id {unknown[0]}."]})
    return ids


@transaction.atomic
def candidates_tag(*, actor: User, candidate_ids: Sequence[int], tag_name: str) -> int:
    """Bulk-add one tag; returns how many people newly got it."""
    ensure(actor, Capability.EDIT_CANDIDATES)
    name = (tag_name or "").strip()
    if not name or len(name) > 50:
        raise ValidationFailed.single("tag", "Give a tag of 1 to 50 characters.")
    candidate_ids = _known_candidate_ids(candidate_ids)
    tag = _tag_objects([name])[0]
    already = set(
        CandidateTag.objects.filter(tag=tag, candidate_id__in=candidate_ids).values_list("candidate_id", flat=True)
    )
    new_ids = [cid for cid in candidate_ids if cid not in already]
    now = timezone.now()
    CandidateTag.objects.bulk_create(
        [CandidateTag(candidate_id=cid, tag=tag, added_by=actor, added_at=now) for cid in new_ids]
    )
    Activity.objects.bulk_create(
        [
            Activity(type="tag.added", candidate_id=cid, actor=actor, occurred_at=now, payload={"tag": tag.name})
            for cid in new_ids
        ]
    )
    candidate_reindex(candidate_ids=new_ids)
    return len(new_ids)


@transaction.atomic
def candidates_set_owner(*, actor: User, candidate_ids: Sequence[int], owner_id: int | None) -> int:
    ensure(actor, Capability.EDIT_CANDIDATES)
    if owner_id is not None:
        try:
            owner_id = int(owner_id)
        except (TypeError, ValueError):
            raise ValidationFailed.single("owner_id", "There is no active team member with this id.")
        if not User.objects.filter(pk=owner_id, is_active=True).exists():
            raise ValidationFailed.single("owner_id", "There is no active team member with this id.")
    candidate_ids = _known_candidate_ids(candidate_ids)
    changed = 0
    for candidate in Candidate.objects.filter(pk__in=candidate_ids).exclude(owner_id=owner_id):
        candidate_update(actor=actor, candidate=candidate, data={"owner_id": owner_id})
        changed += 1
    return changed


@transaction.atomic
def pool_create(*, actor: User, name: str, description: str = "") -> TalentPool:
    ensure(actor, Capability.MANAGE_POOLS)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.single("name", "Give the pool a name.")
    if len(name) > 120:
        raise ValidationFailed.single("name", "Use at most 120 characters.")
    if TalentPool.objects.filter(name__iexact=name).exists():
        existing = TalentPool.objects.get(name__iexact=name)
        raise Duplicate(
            f"A pool called {existing.name!r} already exists.",
            existing_id=existing.pk,
            fields={"name": ["A pool with this name already exists."]},
        )
    pool = TalentPool.objects.create(name=name, description=(description or "").strip(), owner=actor)
    audit_record(actor=actor, action="create", object_type="pool", object_id=pool.pk)
    return pool


@transaction.atomic
def pool_add_members(*, actor: User, pool: TalentPool, candidate_ids: Sequence[int], reason: str = "") -> int:
    ensure(actor, Capability.MANAGE_POOLS)
    if len(reason or "") > 300:
        raise ValidationFailed.single("reason", "Keep the reason under 300 characters.")
    ids = _known_candidate_ids(candidate_ids)
    already = set(PoolMembership.objects.filter(pool=pool, candidate_id__in=ids).values_list("candidate_id", flat=True))
    new_ids = [cid for cid in ids if cid not in already]
    now = timezone.now()
    PoolMembership.objects.bulk_create(
        [
            PoolMembership(pool=pool, candidate_id=cid, reason=reason or "", added_by=actor, added_at=now)
            for cid in new_ids
        ]
    )
    Activity.objects.bulk_create(
        [
            Activity(
                type="pool.added",
                candidate_id=cid,
                actor=actor,
                occurred_at=now,
                payload={"pool_id": pool.pk, "pool": pool.name, "reason": reason or ""},
            )
            for cid in new_ids
        ]
    )
    return len(new_ids)


@transaction.atomic
def pool_remove_member(*, actor: User, pool: TalentPool, candidate: Candidate) -> None:
    ensure(actor, Capability.MANAGE_POOLS)
    deleted, _ = PoolMembership.objects.filter(pool=pool, candidate=candidate).delete()
    if not deleted:
        raise NotFound("This person is not in the pool.")
    activity_record(
        type="pool.removed", candidate=candidate, actor=actor, payload={"pool_id": pool.pk, "pool": pool.name}
    )


@transaction.atomic
def segment_create(
    *, actor: User, name: str, filters: dict[str, Any], description: str = "", is_persona: bool = False
) -> Segment:
    ensure(actor, Capability.MANAGE_POOLS)
    from rapport.candidates.selectors import clean_candidate_filters

    name = (name or "").strip()
    if not name:
        raise ValidationFailed.single("name", "Give the segment a name.")
    if Segment.objects.filter(name__iexact=name).exists():
        existing = Segment.objects.get(name__iexact=name)
        raise Duplicate(
            f"A segment called {existing.name!r} already exists.",
            existing_id=existing.pk,
            fields={"name": ["A segment with this name already exists."]},
        )
    cleaned = clean_candidate_filters(filters or {}, allow_segment=False)
    if not cleaned:
        raise ValidationFailed.single("filters", "Add at least one filter; a segment of everyone is not useful.")
    segment = Segment.objects.create(
        name=name,
        description=(description or "").strip(),
        filters=cleaned,
        is_persona=is_persona,
        owner=actor,
    )
    audit_record(
        actor=actor,
        action="create",
        object_type="segment",
        object_id=segment.pk,
        changes={"filters": cleaned},
    )
    return segment


_CUSTOM_FIELD_KEY_MAX = 50


@transaction.atomic
def custom_field_create(
    *, actor: User, label: str, field_type: str, key: str = "", choices: Sequence[str] | None = None
) -> CustomFieldDefinition:
    """Define a typed custom field; its key is what the API and imports use, so it never changes later."""
    import re

    from django.utils.text import slugify

    ensure(actor, Capability.ADMINISTER)
    errors = FieldErrors()
    label = (label or "").strip()
    if not label or len(label) > 100:
        errors.add("label", "A label has 1 to 100 characters.")
    if field_type not in CustomFieldType.values:
        errors.add("field_type", f"Choose one of: {', '.join(CustomFieldType.values)}.")
    key = (key or "").strip() or slugify(label).replace("-", "_")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", key) or len(key) > _CUSTOM_FIELD_KEY_MAX:
        errors.add(
            "key",
            f"Use lower-case letters, digits and underscores, starting with a letter (at most {_CUSTOM_FIELD_KEY_MAX}).",
        )
    elif CustomFieldDefinition.objects.filter(key=key).exists():
        errors.add("key", f"A custom field with the key {key!r} already exists.")
    cleaned_choices: list[str] = []
    for choice in choices or []:
        text = str(choice).strip()
        if text and text not in cleaned_choices:
            cleaned_choices.append(text)
    if field_type == CustomFieldType.CHOICE:
        if not cleaned_choices:
            errors.add("choices", "A choice field needs at least one choice.")
        elif len(cleaned_choices) > 100 or any(len(c) > 100 for c in cleaned_choices):
            errors.add("choices", "Use at most 100 choices of at most 100 characters each.")
    elif cleaned_choices:
        errors.add("choices", "Only a choice field has choices.")
    errors.raise_if_any()
    last = CustomFieldDefinition.objects.aggregate(m=Max("position"))["m"]
    definition = CustomFieldDefinition.objects.create(
        key=key,
        label=label,
        field_type=field_type,
        choices=cleaned_choices,
        position=(last + 1) if last is not None else 0,
    )
    audit_record(actor=actor, action="create", object_type="custom_field", object_id=definition.pk)
    return definition


@transaction.atomic
def custom_fields_reorder(*, actor: User, definition_ids: Sequence[int]) -> list[CustomFieldDefinition]:
    ensure(actor, Capability.ADMINISTER)
    definitions = {d.pk: d for d in CustomFieldDefinition.objects.all()}
    if sorted(definition_ids) != sorted(definitions):
        raise ValidationFailed.single("definition_ids", "List every custom field exactly once.")
    for position, definition_id in enumerate(definition_ids):
        definitions[definition_id].position = position
    CustomFieldDefinition.objects.bulk_update(definitions.values(), ["position"])
    audit_record(actor=actor, action="update", object_type="custom_field", changes={"order": list(definition_ids)})
    return [definitions[i] for i in definition_ids]
