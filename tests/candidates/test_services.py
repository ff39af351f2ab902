"""Writes to people: normalisation, validation, duplicates, update, merge, erase, pools, segments and bulk actions."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from rapport.candidates.models import (
    Attachment,
    Candidate,
    CandidateEmail,
    CandidatePhone,
    CandidateTag,
    CustomFieldDefinition,
    CustomFieldType,
    PoolMembership,
    RelationshipStatus,
    Segment,
)
from rapport.candidates.selectors import candidate_get_for_user, candidate_list
from rapport.candidates.services import (
    attachment_add,
    candidate_create,
    candidate_erase,
    candidate_merge,
    candidate_update,
    candidates_set_owner,
    candidates_tag,
    pool_add_members,
    pool_create,
    pool_remove_member,
    segment_create,
)
from rapport.common.errors import Duplicate, NotFound, PermissionDenied, ValidationFailed
from rapport.pipeline.models import Application, StageTransition
from rapport.pipeline.services import application_create, application_move, application_reject
from rapport.search import backends as search_backend
from rapport.search.query import parse
from rapport.timeline.models import Activity, AuditEntry, Note
from rapport.timeline.services import note_add
from tests.factories import UserFactory, make_candidate, make_job

PDF = b"%PDF-1.4\n%fake but well-formed enough for the magic-number check\n"


def indexed_ids(query: str) -> list[int]:
    """Ask the search index directly, so a test sees what search would see without any scoping."""
    return search_backend.search(parse(query), scope=None, limit=50).ids


def activity_types(candidate: Candidate) -> list[str]:
    return list(Activity.objects.filter(candidate_id=candidate.pk).order_by("id").values_list("type", flat=True))


def counts() -> tuple[int, int, int, int]:
    return (
        Candidate.objects.count(),
        CandidateEmail.objects.count(),
        CandidatePhone.objects.count(),
        Activity.objects.count(),
    )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# --- create ---------------------------------------------------------------------------------------------------------


def test_create_lower_cases_emails_and_writes_phones_in_e164_with_the_country_as_hint(recruiter):
    person = candidate_create(
        actor=recruiter,
        data={
            "first_name": "  Grace ",
            "last_name": "Hopper",
            "emails": ["Grace@Example.ORG", "grace@example.org", "G.Hopper@Navy.MIL"],
            "phones": ["030 1234567", "+44 20 7946 0958"],
            "location": {"city": "Berlin", "country": "de"},
        },
    )

    assert person.first_name == "Grace"
    assert person.country == "DE"
    assert list(person.emails.values_list("email", flat=True)) == ["grace@example.org", "g.hopper@navy.mil"]
    assert list(person.phones.values_list("phone", flat=True)) == ["+49301234567", "+442079460958"]


def test_create_sets_the_acting_recruiter_as_owner_and_keeps_an_explicit_owner(recruiter, admin_user):
    mine = candidate_create(actor=recruiter, data={"first_name": "Ada"})
    theirs = candidate_create(actor=recruiter, data={"first_name": "Alan", "owner_id": admin_user.pk})

    assert mine.owner_id == recruiter.pk
    assert theirs.owner_id == admin_user.pk


def test_create_writes_the_created_activity_audit_entry_and_search_entry(recruiter):
    person = candidate_create(
        actor=recruiter, data={"first_name": "Grace", "last_name": "Hopper", "source": "Referral"}
    )

    created = Activity.objects.get(candidate=person, type="candidate.created")
    assert created.actor == recruiter
    assert created.payload == {"source": "Referral", "name": "Grace Hopper"}
    audit = AuditEntry.objects.get(object_type="candidate", object_id=str(person.pk))
    assert (audit.action, audit.actor) == ("create", recruiter)
    assert indexed_ids("hopper") == [person.pk]


def test_create_with_tags_records_each_tag(recruiter):
    person = candidate_create(actor=recruiter, data={"first_name": "Grace", "tags": ["Python", "python", "COBOL"]})

    assert sorted(person.candidate_tags.values_list("tag__name", flat=True)) == ["COBOL", "Python"]
    assert activity_types(person).count("tag.added") == 2
    assert indexed_ids("cobol") == [person.pk]


def test_create_is_refused_for_a_role_that_cannot_edit_people(hiring_manager):
    with pytest.raises(PermissionDenied):
        candidate_create(actor=hiring_manager, data={"first_name": "Grace"})

    assert not Candidate.objects.exists()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"first_name": ""}, "first_name"),
        ({"first_name": "   "}, "first_name"),
        ({"first_name": 42}, "first_name"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"location": {"country": "Germany"}}, "location.country"),
        ({"location": "Berlin"}, "location"),
        ({"birthday": "1990-02-30"}, "birthday"),
        ({"birthday": "2999-01-01"}, "birthday"),
        ({"birthday": "yesterday"}, "birthday"),
        ({"custom_fields": {"shoe_size": 42}}, "custom_fields.shoe_size"),
        ({"custom_fields": {"years": "many"}}, "custom_fields.years"),
        ({"custom_fields": {"level": "guru"}}, "custom_fields.level"),
        ({"custom_fields": {"relocate": "perhaps"}}, "custom_fields.relocate"),
        ({"custom_fields": {"portfolio": "ftp://x"}}, "custom_fields.portfolio"),
        ({"custom_fields": ["years"]}, "custom_fields"),
        ({"links": ["javascript:alert(1)"]}, "links"),
        ({"links": ["example.org/me"]}, "links"),
        ({"links": {"a": 1}}, "links"),
        ({"owner_id": 999_999}, "owner_id"),
        ({"owner_id": "abc"}, "owner_id"),
        ({"emails": ["not-an-email"]}, "emails"),
        ({"phones": ["call me maybe"]}, "phones"),
        ({"relationship_status": "best_friend"}, "relationship_status"),
        ({"preferred_channel": "pigeon"}, "preferred_channel"),
        ({"skills": 5}, "skills"),
        ({"tags": ["t" * 51]}, "tags"),
        ({"emails": [f"p{i}@example.org" for i in range(11)]}, "emails"),
    ],
)
def test_create_with_a_bad_field_names_the_field_and_writes_nothing(recruiter, data, field):
    CustomFieldDefinition.objects.create(key="years", label="Years", field_type=CustomFieldType.NUMBER)
    CustomFieldDefinition.objects.create(
        key="level", label="Level", field_type=CustomFieldType.CHOICE, choices=["junior", "senior"]
    )
    CustomFieldDefinition.objects.create(key="relocate", label="Relocate", field_type=CustomFieldType.BOOLEAN)
    CustomFieldDefinition.objects.create(key="portfolio", label="Portfolio", field_type=CustomFieldType.URL)
    before = counts()
    payload = {"first_name": "Grace", "emails": ["grace@example.org"], "phones": ["+44 20 7946 0958"], **data}

    with pytest.raises(ValidationFailed) as caught:
        candidate_create(actor=recruiter, data=payload)

    assert field in caught.value.fields
    assert caught.value.fields[field][0]
    assert counts() == before
    assert not AuditEntry.objects.exists()


def test_create_reports_every_bad_field_at_once(recruiter):
    with pytest.raises(ValidationFailed) as caught:
        candidate_create(
            actor=recruiter,
            data={"first_name": "", "timezone": "Nowhere/Else", "emails": ["nope"], "location": {"country": "123"}},
        )

    assert set(caught.value.fields) == {"first_name", "timezone", "emails", "location.country"}
    assert "first name" in caught.value.message


def test_create_keeps_typed_custom_fields(recruiter):
    CustomFieldDefinition.objects.create(key="years", label="Years", field_type=CustomFieldType.NUMBER)
    CustomFieldDefinition.objects.create(key="relocate", label="Relocate", field_type=CustomFieldType.BOOLEAN)
    CustomFieldDefinition.objects.create(key="start", label="Start", field_type=CustomFieldType.DATE)

    person = candidate_create(
        actor=recruiter,
        data={"first_name": "Grace", "custom_fields": {"years": "7", "relocate": "yes", "start": "2026-03-01"}},
    )

    assert person.custom_fields == {"years": 7, "relocate": True, "start": "2026-03-01"}


def test_the_created_event_is_written_in_the_same_transaction_as_the_person(recruiter):
    """Written inside the transaction (visible before commit) and gone with it on rollback: never one without the other."""
    before = counts()

    with pytest.raises(RuntimeError), transaction.atomic():
        person = candidate_create(actor=recruiter, data={"first_name": "Grace", "emails": ["grace@example.org"]})
        assert Activity.objects.filter(candidate=person, type="candidate.created").exists()
        raise RuntimeError("the request fails after the service returned")

    assert counts() == before
    assert not AuditEntry.objects.exists()
    assert indexed_ids("grace") == []


@pytest.mark.parametrize("email", ["grace@example.org", "GRACE@Example.org", " Grace@EXAMPLE.ORG "])
def test_a_second_person_with_the_same_email_in_any_case_is_a_duplicate(recruiter, email):
    grace = make_candidate(actor=recruiter, first_name="Grace", emails=["grace@example.org"])
    before = counts()

    with pytest.raises(Duplicate) as caught:
        candidate_create(actor=recruiter, data={"first_name": "Other", "emails": ["other@example.org", email]})

    assert caught.value.existing_id == str(grace.pk)
    assert "emails" in caught.value.fields
    assert counts() == before


@pytest.mark.parametrize("phone", ["+49 30 1234567", "+49-30-123-4567", "030 1234567"])
def test_a_second_person_with_the_same_phone_in_any_format_is_a_duplicate(recruiter, phone):
    grace = make_candidate(actor=recruiter, first_name="Grace", emails=["grace@example.org"], phones=["+49301234567"])

    with pytest.raises(Duplicate) as caught:
        candidate_create(
            actor=recruiter,
            data={
                "first_name": "Other",
                "emails": ["other@example.org"],
                "phones": [phone],
                "location": {"country": "DE"},
            },
        )

    assert caught.value.existing_id == str(grace.pk)
    assert "phones" in caught.value.fields


def test_the_database_itself_refuses_a_second_owner_of_an_email_or_phone(recruiter):
    grace = make_candidate(actor=recruiter, emails=["grace@example.org"], phones=["+49301234567"])
    other = make_candidate(actor=recruiter, first_name="Other")

    with pytest.raises(IntegrityError), transaction.atomic():
        CandidateEmail.objects.create(candidate=other, email="grace@example.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        CandidatePhone.objects.create(candidate=other, phone="+49301234567")

    assert grace.emails.count() == 1 and grace.phones.count() == 1


# --- update ---------------------------------------------------------------------------------------------------------


def test_update_audits_old_and_new_values_and_lists_changed_fields_in_the_activity(recruiter):
    person = make_candidate(
        actor=recruiter, first_name="Grace", current_title="Engineer", birthday="1906-12-09", skills=["COBOL"]
    )

    candidate_update(
        actor=recruiter,
        candidate=person,
        data={"current_title": "Rear Admiral", "birthday": "1906-12-10", "skills": ["COBOL", "FLOW-MATIC"]},
    )

    audit = AuditEntry.objects.get(object_id=str(person.pk), action="update")
    assert audit.actor == recruiter
    assert audit.changes == {
        "current_title": ["Engineer", "Rear Admiral"],
        "birthday": ["1906-12-09", "1906-12-10"],
        "skills": [["COBOL"], ["COBOL", "FLOW-MATIC"]],
    }
    updated = Activity.objects.get(candidate=person, type="candidate.updated")
    assert updated.payload == {"fields": ["birthday", "current_title", "skills"]}
    person.refresh_from_db()
    assert person.birthday == date(1906, 12, 10)


def test_update_replaces_lists_whole(recruiter):
    person = make_candidate(
        actor=recruiter,
        emails=["a@example.org", "b@example.org"],
        phones=["+49301234567"],
        skills=["Python", "Go"],
        links=["https://a.example"],
    )

    candidate_update(
        actor=recruiter,
        candidate=person,
        data={"emails": ["C@example.org"], "phones": [], "skills": ["Rust"], "links": ["https://b.example"]},
    )

    person.refresh_from_db()
    assert list(person.emails.values_list("email", flat=True)) == ["c@example.org"]
    assert not person.phones.exists()
    assert person.skills == ["Rust"]
    assert person.links == ["https://b.example"]
    assert indexed_ids("a@example.org") == []
    assert indexed_ids("rust") == [person.pk]


def test_update_tags_records_only_the_difference(recruiter):
    person = make_candidate(actor=recruiter, tags=["python", "remote"])
    Activity.objects.filter(candidate=person).delete()

    candidate_update(actor=recruiter, candidate=person, data={"tags": ["Python", "Berlin"]})

    assert sorted(person.candidate_tags.values_list("tag__name", flat=True)) == ["Berlin", "python"]
    events = {(a.type, a.payload["tag"]) for a in Activity.objects.filter(candidate=person)}
    assert events == {("tag.added", "Berlin"), ("tag.removed", "remote")}


def test_update_to_an_email_or_phone_of_someone_else_is_a_duplicate_and_changes_nothing(recruiter):
    grace = make_candidate(actor=recruiter, first_name="Grace", emails=["grace@example.org"], phones=["+49301234567"])
    alan = make_candidate(actor=recruiter, first_name="Alan", emails=["alan@example.org"])

    with pytest.raises(Duplicate) as by_email:
        candidate_update(actor=recruiter, candidate=alan, data={"first_name": "Al", "emails": ["GRACE@example.org"]})
    with pytest.raises(Duplicate) as by_phone:
        candidate_update(actor=recruiter, candidate=alan, data={"phones": ["+49 30 123 4567"]})

    assert by_email.value.existing_id == by_phone.value.existing_id == str(grace.pk)
    alan.refresh_from_db()
    assert alan.first_name == "Alan"
    assert list(alan.emails.values_list("email", flat=True)) == ["alan@example.org"]


def test_update_keeping_ones_own_email_is_not_a_duplicate(recruiter):
    grace = make_candidate(actor=recruiter, emails=["grace@example.org"])

    candidate_update(actor=recruiter, candidate=grace, data={"emails": ["grace@example.org", "g@example.org"]})

    assert grace.emails.count() == 2


def test_update_without_a_change_writes_no_activity_or_audit(recruiter):
    person = make_candidate(actor=recruiter, first_name="Grace", emails=["grace@example.org"], tags=["python"])
    events, audits = Activity.objects.count(), AuditEntry.objects.count()

    candidate_update(
        actor=recruiter,
        candidate=person,
        data={"first_name": "Grace", "emails": ["Grace@example.org"], "tags": ["python"]},
    )

    assert Activity.objects.count() == events
    assert AuditEntry.objects.count() == audits


def test_update_with_a_bad_field_names_it_and_changes_nothing(recruiter):
    person = make_candidate(actor=recruiter, first_name="Grace", last_name="Hopper")

    with pytest.raises(ValidationFailed) as caught:
        candidate_update(actor=recruiter, candidate=person, data={"last_name": "Murray", "first_name": ""})

    assert "first_name" in caught.value.fields
    person.refresh_from_db()
    assert person.last_name == "Hopper"


def test_update_phones_use_the_persons_country_as_hint(recruiter):
    person = make_candidate(actor=recruiter, location={"city": "Berlin", "country": "DE"})

    candidate_update(actor=recruiter, candidate=person, data={"phones": ["030 1234567"]})

    assert list(person.phones.values_list("phone", flat=True)) == ["+49301234567"]


def test_update_is_refused_for_a_hiring_manager(world):
    with pytest.raises(PermissionDenied):
        candidate_update(actor=world["hiring_manager"], candidate=world["applicant"], data={"first_name": "Amazing"})


# --- merge ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def two_records(recruiter, media):
    """The same person entered twice, each record with its own history."""
    job_a = make_job(actor=recruiter, title="Platform Engineer")
    job_b = make_job(actor=recruiter, title="Data Engineer")
    survivor = make_candidate(
        actor=recruiter,
        first_name="Grace",
        last_name="",
        emails=["grace@example.org"],
        skills=["COBOL"],
        tags=["navy", "veteran"],
    )
    merged = make_candidate(
        actor=recruiter,
        first_name="Grace B.",
        last_name="Hopper",
        current_title="Rear Admiral",
        emails=["grace.hopper@example.org"],
        phones=["+14155550100"],
        skills=["FLOW-MATIC", "cobol"],
        tags=["navy", "compilers"],
        location={"city": "Arlington", "country": "US"},
    )
    shared_survivor = application_create(actor=recruiter, candidate=survivor, job=job_a)
    shared_merged = application_create(actor=recruiter, candidate=merged, job=job_a)
    application_move(actor=recruiter, application=shared_merged, stage=job_a.stages.get(name="Screening"))
    own = application_create(actor=recruiter, candidate=merged, job=job_b)
    note = note_add(actor=recruiter, candidate=merged, body="Invented the first compiler")
    pool_one = pool_create(actor=recruiter, name="Pioneers")
    pool_two = pool_create(actor=recruiter, name="Navy")
    pool_add_members(actor=recruiter, pool=pool_one, candidate_ids=[survivor.pk, merged.pk])
    pool_add_members(actor=recruiter, pool=pool_two, candidate_ids=[merged.pk], reason="Served 43 years")
    attachment = attachment_add(
        actor=recruiter, candidate=merged, upload=SimpleUploadedFile("cv.pdf", PDF, content_type="application/pdf")
    )
    return {
        "survivor": survivor,
        "merged": merged,
        "shared_survivor": shared_survivor,
        "shared_merged": shared_merged,
        "own": own,
        "note": note,
        "pool_one": pool_one,
        "pool_two": pool_two,
        "attachment": attachment,
        "job_a": job_a,
    }


def test_merge_moves_everything_onto_the_survivor(recruiter, two_records):
    survivor, merged = two_records["survivor"], two_records["merged"]
    merged_id = merged.pk
    merged_event_ids = set(Activity.objects.filter(candidate=merged).values_list("id", flat=True))

    candidate_merge(actor=recruiter, survivor=survivor, merged=merged)

    survivor.refresh_from_db()
    assert not Candidate.objects.filter(pk=merged_id).exists()
    assert set(survivor.emails.values_list("email", flat=True)) == {"grace@example.org", "grace.hopper@example.org"}
    assert list(survivor.phones.values_list("phone", flat=True)) == ["+14155550100"]
    assert set(Application.objects.filter(candidate=survivor).values_list("id", flat=True)) == {
        two_records["shared_survivor"].pk,
        two_records["own"].pk,
    }
    assert Note.objects.get(pk=two_records["note"].pk).candidate_id == survivor.pk
    assert Attachment.objects.get(pk=two_records["attachment"].pk).candidate_id == survivor.pk
    assert sorted(survivor.candidate_tags.values_list("tag__name", flat=True)) == ["compilers", "navy", "veteran"]
    memberships = {m.pool_id: m for m in PoolMembership.objects.filter(candidate=survivor)}
    assert set(memberships) == {two_records["pool_one"].pk, two_records["pool_two"].pk}
    assert memberships[two_records["pool_two"].pk].reason == "Served 43 years"
    assert merged_event_ids <= set(Activity.objects.filter(candidate=survivor).values_list("id", flat=True))


def test_merge_combines_applications_to_the_same_job_and_keeps_their_stage_history(recruiter, two_records):
    survivor, merged = two_records["survivor"], two_records["merged"]
    kept, folded = two_records["shared_survivor"], two_records["shared_merged"]
    history_before = StageTransition.objects.filter(application__in=[kept, folded]).count()

    candidate_merge(actor=recruiter, survivor=survivor, merged=merged)

    assert not Application.objects.filter(pk=folded.pk).exists()
    assert StageTransition.objects.filter(application=kept).count() == history_before == 3
    assert Activity.objects.filter(application=kept, type="application.stage_changed").count() == 1


def test_merge_fills_blanks_but_keeps_the_survivors_values(recruiter, two_records):
    survivor, merged = two_records["survivor"], two_records["merged"]

    candidate_merge(actor=recruiter, survivor=survivor, merged=merged)

    survivor.refresh_from_db()
    assert survivor.first_name == "Grace"
    assert survivor.last_name == "Hopper"
    assert survivor.current_title == "Rear Admiral"
    assert (survivor.city, survivor.country) == ("Arlington", "US")
    assert survivor.skills == ["COBOL", "FLOW-MATIC"]


def test_merge_is_recorded_with_a_snapshot_and_the_index_follows(recruiter, two_records):
    survivor, merged = two_records["survivor"], two_records["merged"]
    merged_id = merged.pk

    candidate_merge(actor=recruiter, survivor=survivor, merged=merged)

    event = Activity.objects.get(candidate=survivor, type="candidate.merged")
    assert event.actor == recruiter
    assert event.payload["merged_id"] == str(merged_id)
    assert event.payload["name"] == "Grace B. Hopper"
    assert event.payload["emails"] == ["grace.hopper@example.org"]
    assert event.payload["phones"] == ["+14155550100"]
    assert event.payload["applications_moved"] == 1
    assert event.payload["applications_combined"] == 1
    assert "last_name" in event.payload["fields_filled"]
    assert AuditEntry.objects.filter(action="merge", object_id=str(survivor.pk)).exists()
    assert indexed_ids("hopper") == [survivor.pk]
    assert indexed_ids("compiler") == [survivor.pk]
    assert candidate_list(user=recruiter, filters={"q": "grace.hopper@example.org"}).items == [survivor]


def test_merge_keeps_interviewer_assignments_of_a_combined_application(world):
    recruiter, interviewer, job = world["recruiter"], world["interviewer"], world["job"]
    copy = make_candidate(actor=recruiter, first_name="Grace", emails=["hopper@example.org"])
    survivor_application = application_create(actor=recruiter, candidate=copy, job=job)

    candidate_merge(actor=recruiter, survivor=copy, merged=world["applicant"])

    assert list(survivor_application.interviewers.all()) == [interviewer]
    assert candidate_get_for_user(user=interviewer, candidate_id=copy.pk) == copy


@pytest.mark.parametrize(
    "survivor_status, merged_status, expected",
    [
        ("lead", "applicant", "applicant"),
        ("hired", "nurturing", "hired"),
        ("alumni", "do_not_contact", "do_not_contact"),
        ("do_not_contact", "engaged", "do_not_contact"),
    ],
)
def test_merge_keeps_the_furthest_relationship_and_any_opt_out(recruiter, survivor_status, merged_status, expected):
    survivor = make_candidate(actor=recruiter, first_name="A", relationship_status=survivor_status)
    merged = make_candidate(actor=recruiter, first_name="B", relationship_status=merged_status)

    candidate_merge(actor=recruiter, survivor=survivor, merged=merged)

    assert Candidate.objects.get(pk=survivor.pk).relationship_status == expected


def test_merge_into_oneself_is_refused(recruiter):
    person = make_candidate(actor=recruiter)

    with pytest.raises(ValidationFailed) as caught:
        candidate_merge(actor=recruiter, survivor=person, merged=person)

    assert "merged_id" in caught.value.fields
    assert Candidate.objects.filter(pk=person.pk).exists()


def test_merge_is_refused_for_a_hiring_manager(world):
    with pytest.raises(PermissionDenied):
        candidate_merge(actor=world["hiring_manager"], survivor=world["applicant"], merged=world["bystander"])

    assert Candidate.objects.filter(pk=world["bystander"].pk).exists()


# --- erase ----------------------------------------------------------------------------------------------------------


def test_erase_removes_personal_data_and_keeps_applications_for_aggregates(admin_user, recruiter, media):
    job = make_job(actor=recruiter)
    person = make_candidate(
        actor=recruiter,
        first_name="Grace",
        last_name="Hopper",
        emails=["grace@example.org"],
        phones=["+49301234567"],
        current_title="Rear Admiral",
        tags=["navy"],
        skills=["COBOL"],
        birthday="1906-12-09",
    )
    application = application_create(actor=recruiter, candidate=person, job=job)
    application_reject(actor=recruiter, application=application, note="Grace said she lives at 1 Navy Road")
    note_add(actor=recruiter, candidate=person, body="Home address: 1 Navy Road")
    attachment = attachment_add(
        actor=recruiter, candidate=person, upload=SimpleUploadedFile("cv.pdf", PDF, content_type="application/pdf")
    )
    stored_file = attachment.file.path
    pool = pool_create(actor=recruiter, name="Pioneers")
    pool_add_members(actor=recruiter, pool=pool, candidate_ids=[person.pk], reason="Grace is a pioneer")

    candidate_erase(actor=admin_user, candidate=person)

    person.refresh_from_db()
    assert person.erased_at is not None
    assert (person.first_name, person.last_name, person.current_title) == ("Erased person", "", "")
    assert person.skills == [] and person.birthday is None
    assert person.relationship_status == RelationshipStatus.DO_NOT_CONTACT
    assert not person.emails.exists() and not person.phones.exists()
    assert not person.notes.exists() and not person.attachments.exists()
    assert not person.candidate_tags.exists() and not person.pool_memberships.exists()
    assert not __import__("os").path.exists(stored_file)
    application.refresh_from_db()
    assert application.job_id == job.pk and application.status == "rejected"
    assert "Navy Road" not in application.rejection_note
    scrubbed = Activity.objects.filter(candidate=person).exclude(type="candidate.erased")
    assert scrubbed.exists()
    assert all(a.payload == {} for a in scrubbed)
    assert Activity.objects.filter(candidate=person, type="candidate.erased", actor=admin_user).exists()
    for entry in AuditEntry.objects.filter(object_type="candidate", object_id=str(person.pk)):
        assert "Grace" not in str(entry.changes) and "grace@example.org" not in str(entry.changes)


def test_erase_also_scrubs_the_audit_values_of_records_merged_into_the_person(admin_user, recruiter):
    first = make_candidate(actor=recruiter, first_name="Grace", emails=["first@example.org"])
    second = make_candidate(actor=recruiter, first_name="Grace", emails=["second@example.org"])
    third = make_candidate(actor=recruiter, first_name="Grace", emails=["third@example.org"])
    candidate_update(actor=recruiter, candidate=first, data={"last_name": "Hopper"})
    candidate_update(actor=recruiter, candidate=second, data={"current_title": "Rear Admiral"})
    first_id = first.pk
    candidate_merge(actor=recruiter, survivor=second, merged=first)
    candidate_merge(actor=recruiter, survivor=third, merged=second)
    unrelated = make_candidate(actor=recruiter, first_name="Alan")
    candidate_update(actor=recruiter, candidate=unrelated, data={"last_name": "Turing"})

    candidate_erase(actor=admin_user, candidate=third)

    remaining = " ".join(str(e.changes) for e in AuditEntry.objects.filter(object_type="candidate"))
    for personal in ("Hopper", "Rear Admiral", "first@example.org", "second@example.org"):
        assert personal not in remaining
    assert "Turing" in remaining
    assert AuditEntry.objects.filter(object_id=str(first_id), action="update", actor=recruiter).exists()


def test_an_erased_person_is_neither_searchable_nor_visible(admin_user, recruiter):
    person = make_candidate(actor=recruiter, first_name="Grace", last_name="Hopper", emails=["grace@example.org"])

    candidate_erase(actor=admin_user, candidate=person)

    assert indexed_ids("hopper") == []
    assert candidate_list(user=admin_user, filters={"q": "hopper"}).items == []
    assert candidate_list(user=admin_user, filters={"q": "grace@example.org"}).items == []
    assert candidate_list(user=admin_user, filters={}).items == []
    with pytest.raises(NotFound):
        candidate_get_for_user(user=admin_user, candidate_id=person.pk)


def test_erase_frees_the_email_for_a_new_person(admin_user, recruiter):
    person = make_candidate(actor=recruiter, emails=["grace@example.org"])
    candidate_erase(actor=admin_user, candidate=person)

    again = candidate_create(actor=recruiter, data={"first_name": "Grace", "emails": ["grace@example.org"]})

    assert again.pk != person.pk


def test_erase_is_for_admins_only(recruiter):
    person = make_candidate(actor=recruiter, first_name="Grace")

    with pytest.raises(PermissionDenied):
        candidate_erase(actor=recruiter, candidate=person)

    person.refresh_from_db()
    assert person.first_name == "Grace" and person.erased_at is None


# --- pools ----------------------------------------------------------------------------------------------------------


def test_pool_members_carry_a_reason_and_who_added_them(recruiter):
    grace = make_candidate(actor=recruiter, first_name="Grace")
    alan = make_candidate(actor=recruiter, first_name="Alan")
    pool = pool_create(actor=recruiter, name="  Pioneers ", description="People who started things")

    added = pool_add_members(
        actor=recruiter, pool=pool, candidate_ids=[grace.pk, alan.pk, grace.pk], reason="Met at PyCon"
    )

    assert pool.name == "Pioneers"
    assert added == 2
    membership = PoolMembership.objects.get(pool=pool, candidate=grace)
    assert (membership.reason, membership.added_by) == ("Met at PyCon", recruiter)
    event = Activity.objects.get(candidate=grace, type="pool.added")
    assert event.payload == {"pool_id": pool.pk, "pool": "Pioneers", "reason": "Met at PyCon"}


def test_adding_people_already_in_a_pool_is_ignored(recruiter):
    grace = make_candidate(actor=recruiter, first_name="Grace")
    pool = pool_create(actor=recruiter, name="Pioneers")
    pool_add_members(actor=recruiter, pool=pool, candidate_ids=[grace.pk], reason="first")

    added = pool_add_members(actor=recruiter, pool=pool, candidate_ids=[grace.pk], reason="second")

    assert added == 0
    assert PoolMembership.objects.get(pool=pool, candidate=grace).reason == "first"
    assert Activity.objects.filter(candidate=grace, type="pool.added").count() == 1


@pytest.mark.parametrize("bad_id", [999_999, "abc", None])
def test_adding_unknown_people_to_a_pool_adds_no_one(recruiter, bad_id):
    grace = make_candidate(actor=recruiter, first_name="Grace")
    pool = pool_create(actor=recruiter, name="Pioneers")

    with pytest.raises((NotFound, ValidationFailed)) as caught:
        pool_add_members(actor=recruiter, pool=pool, candidate_ids=[grace.pk, bad_id])

    assert "candidate_ids" in caught.value.fields
    assert not PoolMembership.objects.exists()


def test_pool_names_are_unique_regardless_of_case(recruiter):
    first = pool_create(actor=recruiter, name="Pioneers")

    with pytest.raises(Duplicate) as caught:
        pool_create(actor=recruiter, name="PIONEERS")
    with pytest.raises(ValidationFailed) as blank:
        pool_create(actor=recruiter, name="  ")

    assert caught.value.existing_id == str(first.pk)
    assert "name" in blank.value.fields


def test_removing_a_member_records_it_and_removing_a_stranger_is_not_found(recruiter):
    grace = make_candidate(actor=recruiter, first_name="Grace")
    pool = pool_create(actor=recruiter, name="Pioneers")
    pool_add_members(actor=recruiter, pool=pool, candidate_ids=[grace.pk])

    pool_remove_member(actor=recruiter, pool=pool, candidate=grace)

    assert not PoolMembership.objects.exists()
    assert Activity.objects.filter(candidate=grace, type="pool.removed").exists()
    with pytest.raises(NotFound):
        pool_remove_member(actor=recruiter, pool=pool, candidate=grace)


def test_pools_are_managed_by_recruiters_not_hiring_managers(hiring_manager):
    with pytest.raises(PermissionDenied):
        pool_create(actor=hiring_manager, name="Mine")


# --- segments -------------------------------------------------------------------------------------------------------


def test_a_segment_stores_cleaned_filters_and_its_members_are_computed_when_asked(recruiter):
    segment = segment_create(
        actor=recruiter, name="Berlin Pythonistas", filters={"q": "python", "city": "Berlin", "tag": ""}
    )
    early = make_candidate(actor=recruiter, first_name="Early", skills=["Python"], location={"city": "Berlin"})
    make_candidate(actor=recruiter, first_name="Elsewhere", skills=["Python"], location={"city": "Paris"})

    members_then = candidate_list(user=recruiter, filters={"segment": segment.pk}).items
    late = make_candidate(actor=recruiter, first_name="Late", skills=["python"], location={"city": "berlin"})
    members_now = candidate_list(user=recruiter, filters={"segment": segment.pk}).items

    assert segment.filters == {"q": "python", "city": "Berlin"}
    assert members_then == [early]
    assert {c.pk for c in members_now} == {early.pk, late.pk}


@pytest.mark.parametrize(
    "filters, field",
    [
        ({"colour": "blue"}, "colour"),
        ({"status": "best_friend"}, "status"),
        ({"pool": "abc"}, "pool"),
        ({"created_after": "last tuesday"}, "created_after"),
        ({"q": "(python"}, "q"),
        ({}, "filters"),
        ({"city": ""}, "filters"),
    ],
)
def test_a_segment_with_bad_filters_is_refused_naming_the_field(recruiter, filters, field):
    with pytest.raises(ValidationFailed) as caught:
        segment_create(actor=recruiter, name="Bad", filters=filters)

    assert field in caught.value.fields
    assert not Segment.objects.exists()


def test_a_segment_of_a_segment_is_refused(recruiter):
    base = segment_create(actor=recruiter, name="Berlin", filters={"city": "Berlin"})

    with pytest.raises(ValidationFailed) as caught:
        segment_create(actor=recruiter, name="Nested", filters={"segment": base.pk, "tag": "python"})

    assert "segment" in caught.value.fields
    assert list(Segment.objects.values_list("name", flat=True)) == ["Berlin"]


def test_segment_names_are_unique(recruiter):
    first = segment_create(actor=recruiter, name="Berlin", filters={"city": "Berlin"})

    with pytest.raises(Duplicate) as caught:
        segment_create(actor=recruiter, name="berlin", filters={"city": "Paris"})

    assert caught.value.existing_id == str(first.pk)


# --- bulk -----------------------------------------------------------------------------------------------------------


def test_bulk_tag_adds_the_tag_once_and_records_each_new_holder(recruiter):
    grace = make_candidate(actor=recruiter, first_name="Grace", tags=["Python"])
    alan = make_candidate(actor=recruiter, first_name="Alan")
    ada = make_candidate(actor=recruiter, first_name="Ada")

    added = candidates_tag(actor=recruiter, candidate_ids=[grace.pk, alan.pk, ada.pk, alan.pk], tag_name=" python ")

    assert added == 2
    assert CandidateTag.objects.filter(tag__name="Python").count() == 3
    assert Activity.objects.filter(type="tag.added", candidate__in=[alan, ada]).count() == 2
    assert set(indexed_ids("python")) == {grace.pk, alan.pk, ada.pk}


def test_bulk_tag_of_unknown_people_tags_no_one(recruiter):
    grace = make_candidate(actor=recruiter, first_name="Grace")

    with pytest.raises((NotFound, ValidationFailed)) as caught:
        candidates_tag(actor=recruiter, candidate_ids=[grace.pk, 999_999], tag_name="python")

    assert "candidate_ids" in caught.value.fields
    assert not CandidateTag.objects.exists()


@pytest.mark.parametrize("name", ["", "   ", "x" * 51])
def test_bulk_tag_with_a_bad_tag_names_the_field(recruiter, name):
    grace = make_candidate(actor=recruiter)

    with pytest.raises(ValidationFailed) as caught:
        candidates_tag(actor=recruiter, candidate_ids=[grace.pk], tag_name=name)

    assert "tag" in caught.value.fields


def test_bulk_set_owner_changes_only_those_with_another_owner_and_audits_each(recruiter, admin_user):
    mine = make_candidate(actor=recruiter, first_name="Mine")
    already = make_candidate(actor=recruiter, first_name="Already", owner_id=admin_user.pk)

    changed = candidates_set_owner(actor=recruiter, candidate_ids=[mine.pk, already.pk], owner_id=admin_user.pk)

    assert changed == 1
    mine.refresh_from_db()
    assert mine.owner_id == admin_user.pk
    audit = AuditEntry.objects.get(object_id=str(mine.pk), action="update")
    assert audit.changes == {"owner_id": [recruiter.pk, admin_user.pk]}


def test_bulk_set_owner_to_an_unknown_or_inactive_user_is_refused(recruiter):
    mine = make_candidate(actor=recruiter)
    gone = UserFactory(is_active=False)

    for owner_id in (999_999, gone.pk, "abc"):
        with pytest.raises(ValidationFailed) as caught:
            candidates_set_owner(actor=recruiter, candidate_ids=[mine.pk], owner_id=owner_id)
        assert "owner_id" in caught.value.fields

    mine.refresh_from_db()
    assert mine.owner_id == recruiter.pk


def test_bulk_set_owner_can_clear_the_owner(recruiter):
    mine = make_candidate(actor=recruiter)

    assert candidates_set_owner(actor=recruiter, candidate_ids=[mine.pk], owner_id=None) == 1

    mine.refresh_from_db()
    assert mine.owner_id is None


def test_merge_keeps_the_followers_of_both_records_once(recruiter, admin_user, two_records):
    from rapport.notifications.models import Follow

    survivor, merged = two_records["survivor"], two_records["merged"]
    Follow.objects.create(user=recruiter, candidate=survivor)
    Follow.objects.create(user=recruiter, candidate=merged)
    Follow.objects.create(user=admin_user, candidate=merged)

    candidate_merge(actor=recruiter, survivor=survivor, merged=merged)

    assert sorted(Follow.objects.filter(candidate=survivor).values_list("user__email", flat=True)) == sorted(
        [recruiter.email, admin_user.email]
    )
