import re
from datetime import timedelta

import pytest
from django.utils import timezone

from rapport.candidates.models import Candidate, CandidateEmail, RelationshipStatus
from rapport.candidates.services import pool_add_members, segment_create
from rapport.pipeline.services import application_create
from rapport.timeline.models import Activity
from tests.api.conftest import error_of
from tests.factories import CandidateFactory, TalentPoolFactory, make_candidate, make_job

UTC_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

FULL_PERSON = {
    "first_name": "Grace",
    "last_name": "Hopper",
    "emails": ["Grace@Example.org", "grace.work@example.com"],
    "phones": ["+1 (202) 555-0143"],
    "headline": "Compiler pioneer",
    "current_title": "Rear Admiral",
    "current_company": "US Navy",
    "location": {"city": "Arlington", "region": "VA", "country": "us"},
    "timezone": "America/New_York",
    "language": "en",
    "skills": ["COBOL", "Compilers"],
    "tags": ["pioneer", "Navy"],
    "links": ["https://example.org/grace"],
    "source": "referral",
    "birthday": "1906-12-09",
    "relationship_status": "engaged",
    "preferred_channel": "phone",
}


def test_creating_a_person_answers_201_with_every_field_in_the_contract(api_as, recruiter):
    response = api_as(recruiter).post("/candidates", FULL_PERSON)

    assert response.status_code == 201
    body = response.json()
    assert body["id"] == str(Candidate.objects.get().pk)
    assert body["emails"] == ["grace@example.org", "grace.work@example.com"]
    assert body["phones"] == ["+12025550143"]
    assert body["location"] == {"city": "Arlington", "region": "VA", "country": "US"}
    assert body["tags"] == ["Navy", "pioneer"]
    assert body["owner_id"] == str(recruiter.pk)
    assert body["birthday"] == "1906-12-09"
    assert body["relationship_status"] == "engaged"
    assert body["preferred_channel"] == "phone"
    assert body["custom_fields"] == {}
    assert body["engagement_score"] == 0
    assert UTC_TIMESTAMP.match(body["created_at"]) and UTC_TIMESTAMP.match(body["updated_at"])
    assert set(body) == {
        "id",
        "first_name",
        "last_name",
        "emails",
        "phones",
        "headline",
        "current_title",
        "current_company",
        "location",
        "timezone",
        "language",
        "skills",
        "tags",
        "links",
        "source",
        "owner_id",
        "birthday",
        "custom_fields",
        "relationship_status",
        "preferred_channel",
        "engagement_score",
        "created_at",
        "updated_at",
    }
    assert Activity.objects.filter(type="candidate.created", candidate_id=int(body["id"])).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"last_name": "No first name"}, "first_name"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": "Ada", "emails": ["not-an-email"]}, "emails"),
        ({"first_name": "Ada", "emails": "ada@example.org"}, "emails"),
        ({"first_name": "Ada", "emails": ["ada@example.org", 7]}, "emails"),
        ({"first_name": "Ada", "phones": ["12"]}, "phones"),
        ({"first_name": "Ada", "location": {"country": "Germany"}}, "location.country"),
        ({"first_name": "Ada", "location": {"planet": "Mars"}}, "location.planet"),
        ({"first_name": "Ada", "timezone": "Mars/Olympus"}, "timezone"),
        ({"first_name": "Ada", "birthday": "yesterday"}, "birthday"),
        ({"first_name": "Ada", "birthday": "2999-01-01"}, "birthday"),
        ({"first_name": "Ada", "relationship_status": "best_friend"}, "relationship_status"),
        ({"first_name": "Ada", "owner_id": "999999"}, "owner_id"),
        ({"first_name": "Ada", "owner_id": "abc"}, "owner_id"),
        ({"first_name": "Ada", "links": ["example.org"]}, "links"),
        ({"first_name": "Ada", "custom_fields": {"shoe_size": 42}}, "custom_fields.shoe_size"),
        ({"first_name": "Ada", "nickname": "Countess"}, "nickname"),
        ({"first_name": 42}, "first_name"),
    ],
)
def test_invalid_people_are_refused_with_422_naming_the_field(api_as, recruiter, body, field):
    response = api_as(recruiter).post("/candidates", body)

    assert response.status_code == 422, response.content
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert field in error["fields"], error
    assert Candidate.objects.count() == 0


def test_several_problems_are_reported_together(api_as, recruiter):
    response = api_as(recruiter).post(
        "/candidates", {"first_name": "Ada", "emails": ["nope"], "location": {"country": "Germany"}}
    )

    assert response.status_code == 422
    assert {"emails", "location.country"} <= set(error_of(response)["fields"])


def test_an_email_that_belongs_to_someone_else_is_a_409_duplicate_with_their_id(api_as, recruiter):
    existing = make_candidate(actor=recruiter, emails=["ada@example.org"], phones=["+442079460958"])
    api = api_as(recruiter)

    by_email = api.post("/candidates", {"first_name": "Ada", "emails": ["ADA@example.org"]})
    by_phone = api.post("/candidates", {"first_name": "Ada", "phones": ["+44 20 7946 0958"]})

    for response in (by_email, by_phone):
        assert response.status_code == 409
        error = error_of(response)
        assert error["code"] == "duplicate"
        assert error["existing_id"] == str(existing.pk)
    assert Candidate.objects.count() == 1


def test_one_person_is_read_by_id(api_as, recruiter):
    person = make_candidate(actor=recruiter, first_name="Ada", emails=["ada@example.org"], tags=["math"])

    response = api_as(recruiter).get(f"/candidates/{person.pk}")

    assert response.status_code == 200
    assert response.json()["emails"] == ["ada@example.org"]
    assert response.json()["tags"] == ["math"]


@pytest.mark.parametrize("candidate_id", ["999999", "abc", "99999999999999999999999", "0", "-1"])
def test_an_unknown_person_is_404(api_as, recruiter, candidate_id):
    response = api_as(recruiter).get(f"/candidates/{candidate_id}")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_patch_changes_only_the_fields_sent_and_replaces_lists_whole(api_as, recruiter):
    person = make_candidate(
        actor=recruiter,
        first_name="Ada",
        last_name="Lovelace",
        emails=["ada@example.org", "countess@example.org"],
        skills=["math", "poetry"],
        tags=["old"],
    )

    response = api_as(recruiter).patch(
        f"/candidates/{person.pk}",
        {"emails": ["countess@example.org"], "skills": ["engines"], "tags": ["new"], "location": {"city": "London"}},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["last_name"] == "Lovelace"
    assert body["emails"] == ["countess@example.org"]
    assert body["skills"] == ["engines"]
    assert body["tags"] == ["new"]
    assert body["location"]["city"] == "London"
    assert Activity.objects.filter(type="candidate.updated", candidate=person).exists()


def test_patch_with_someone_elses_phone_is_a_409_duplicate_and_changes_nothing(api_as, recruiter):
    other = make_candidate(actor=recruiter, first_name="Alan", phones=["+442079460958"])
    person = make_candidate(actor=recruiter, first_name="Ada", emails=["ada@example.org"])

    response = api_as(recruiter).patch(f"/candidates/{person.pk}", {"headline": "Analyst", "phones": ["+442079460958"]})

    assert response.status_code == 409
    assert error_of(response)["existing_id"] == str(other.pk)
    person.refresh_from_db()
    assert person.headline == ""


def test_patch_validation_errors_name_the_field(api_as, recruiter):
    person = make_candidate(actor=recruiter)

    response = api_as(recruiter).patch(f"/candidates/{person.pk}", {"first_name": None, "emails": ["x"]})

    assert response.status_code == 422
    assert {"first_name", "emails"} <= set(error_of(response)["fields"])


def test_delete_erases_the_person_and_answers_204(api_as, admin_user, recruiter):
    person = make_candidate(actor=recruiter, first_name="Ada", emails=["ada@example.org"])
    api = api_as(admin_user)

    response = api.delete(f"/candidates/{person.pk}")

    assert response.status_code == 204
    assert response.content == b""
    person.refresh_from_db()
    assert person.erased_at is not None
    assert person.first_name == "Erased person"
    assert not CandidateEmail.objects.filter(candidate=person).exists()
    assert Activity.objects.filter(type="candidate.erased", candidate=person).exists()
    assert api.get(f"/candidates/{person.pk}").status_code == 404


def test_the_list_pages_through_every_person_with_a_cursor(api_as, recruiter):
    people = CandidateFactory.create_batch(7)
    api = api_as(recruiter)

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        response = api.get("/candidates", params)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"items", "next_cursor"}
        seen.extend(item["id"] for item in body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert seen == [str(p.pk) for p in sorted(people, key=lambda p: -p.pk)]


def test_the_list_defaults_to_50_a_page(api_as, recruiter):
    CandidateFactory.create_batch(51)

    body = api_as(recruiter).get("/candidates").json()

    assert len(body["items"]) == 50
    assert body["next_cursor"] is not None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"status": "best_friend"}, "status"),
        ({"pool": "abc"}, "pool"),
        ({"owner": "99999999999999999999999"}, "owner"),
        ({"updated_since": "last tuesday"}, "updated_since"),
        ({"sort": "random"}, "sort"),
        ({"q": '"unclosed'}, None),
    ],
)
def test_bad_list_parameters_are_422_naming_the_parameter(api_as, recruiter, params, field):
    response = api_as(recruiter).get("/candidates", params)

    assert response.status_code in (200, 422)
    if field is not None:
        assert response.status_code == 422
        assert field in error_of(response)["fields"]


def test_a_cursor_that_was_not_issued_by_us_is_400(api_as, recruiter):
    response = api_as(recruiter).get("/candidates", {"cursor": "not a cursor!"})

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bad_request"
    assert "cursor" in error["fields"]


@pytest.fixture
def people(recruiter, admin_user):
    """Four people who differ in exactly one way each, to check that each filter picks the right one."""
    job = make_job(actor=recruiter, title="Compiler Engineer")
    tagged = make_candidate(actor=recruiter, first_name="Tagged", tags=["python"], source="linkedin")
    pooled = make_candidate(actor=recruiter, first_name="Pooled", relationship_status="nurturing")
    applied = make_candidate(actor=recruiter, first_name="Applied", owner_id=admin_user.pk)
    searched = make_candidate(actor=recruiter, first_name="Zebediah", last_name="Quux")
    pool = TalentPoolFactory(name="Silver medalists")
    pool_add_members(actor=recruiter, pool=pool, candidate_ids=[pooled.pk])
    application = application_create(actor=recruiter, candidate=applied, job=job)
    return {
        "job": job,
        "pool": pool,
        "stage": application.stage,
        "tagged": tagged,
        "pooled": pooled,
        "applied": applied,
        "searched": searched,
    }


def _ids(response):
    assert response.status_code == 200, response.content
    return {int(item["id"]) for item in response.json()["items"]}


def test_each_list_filter_narrows_the_people(api_as, recruiter, admin_user, people):
    api = api_as(recruiter)
    segment = segment_create(actor=recruiter, name="Pythonistas", filters={"tag": "python"})

    assert _ids(api.get("/candidates", {"tag": "python"})) == {people["tagged"].pk}
    assert _ids(api.get("/candidates", {"source": "linkedin"})) == {people["tagged"].pk}
    assert _ids(api.get("/candidates", {"pool": people["pool"].pk})) == {people["pooled"].pk}
    assert _ids(api.get("/candidates", {"status": "nurturing"})) == {people["pooled"].pk}
    assert _ids(api.get("/candidates", {"job": people["job"].pk})) == {people["applied"].pk}
    assert _ids(api.get("/candidates", {"stage": people["stage"].pk})) == {people["applied"].pk}
    assert _ids(api.get("/candidates", {"owner": admin_user.pk})) == {people["applied"].pk}
    assert _ids(api.get("/candidates", {"segment": segment.pk})) == {people["tagged"].pk}
    assert _ids(api.get("/candidates", {"q": "quux"})) == {people["searched"].pk}
    assert _ids(api.get("/candidates", {"tag": "python", "status": "nurturing"})) == set()


def test_updated_since_keeps_people_changed_after_the_time(api_as, recruiter):
    old = CandidateFactory(updated_at=timezone.now() - timedelta(days=10))
    recent = CandidateFactory(updated_at=timezone.now())
    since = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    ids = _ids(api_as(recruiter).get("/candidates", {"updated_since": since}))

    assert recent.pk in ids and old.pk not in ids


def test_an_unknown_segment_filter_is_404(api_as, recruiter):
    response = api_as(recruiter).get("/candidates", {"segment": 424242})

    assert response.status_code == 404


def test_the_timeline_is_newest_first_filterable_by_type_and_paginated(api_as, recruiter):
    person = make_candidate(actor=recruiter)
    api = api_as(recruiter)
    for text in ("first", "second", "third"):
        assert api.post(f"/candidates/{person.pk}/notes", {"body": text}).status_code == 201

    everything = api.get(f"/candidates/{person.pk}/timeline").json()["items"]
    notes = api.get(f"/candidates/{person.pk}/timeline", {"type": "note.added", "limit": 2}).json()
    grouped = api.get(f"/candidates/{person.pk}/timeline", {"type": "notes,candidate.created"}).json()["items"]
    next_page = api.get(
        f"/candidates/{person.pk}/timeline", {"type": "note.added", "limit": 2, "cursor": notes["next_cursor"]}
    ).json()

    assert [item["type"] for item in everything] == ["note.added"] * 3 + ["candidate.created"]
    assert [item["payload"]["body"] for item in notes["items"]] == ["third", "second"]
    assert [item["payload"]["body"] for item in next_page["items"]] == ["first"]
    assert next_page["next_cursor"] is None
    assert len(grouped) == 4
    item = everything[0]
    assert item["actor_id"] == str(recruiter.pk)
    assert UTC_TIMESTAMP.match(item["occurred_at"])
    assert set(item) == {"id", "type", "occurred_at", "actor_id", "application_id", "job_id", "payload"}


def test_a_note_is_added_as_sanitised_markdown(api_as, interviewer, recruiter):
    person = make_candidate(actor=recruiter)

    response = api_as(recruiter).post(
        f"/candidates/{person.pk}/notes", {"body": "**Strong** <script>alert(1)</script>"}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["candidate_id"] == str(person.pk)
    assert body["author_id"] == str(recruiter.pk)
    assert "<strong>Strong</strong>" in body["body_html"]
    assert "<script>" not in body["body_html"]


def test_an_empty_note_is_422_on_body(api_as, recruiter):
    person = make_candidate(actor=recruiter)

    response = api_as(recruiter).post(f"/candidates/{person.pk}/notes", {"body": "   "})

    assert response.status_code == 422
    assert "body" in error_of(response)["fields"]


def test_merge_moves_everything_onto_the_survivor(api_as, recruiter):
    survivor = make_candidate(actor=recruiter, first_name="Ada", emails=["ada@example.org"])
    merged = make_candidate(actor=recruiter, first_name="Ada", headline="Analyst", emails=["ada.king@example.org"])
    api = api_as(recruiter)

    response = api.post("/candidates/merge", {"survivor_id": str(survivor.pk), "merged_id": str(merged.pk)})

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(survivor.pk)
    assert body["emails"] == ["ada@example.org", "ada.king@example.org"]
    assert body["headline"] == "Analyst"
    assert not Candidate.objects.filter(pk=merged.pk).exists()
    assert api.get(f"/candidates/{merged.pk}").status_code == 404


def test_merge_refuses_a_person_into_themselves_and_unknown_ids(api_as, recruiter):
    person = make_candidate(actor=recruiter)
    api = api_as(recruiter)

    itself = api.post("/candidates/merge", {"survivor_id": person.pk, "merged_id": person.pk})
    unknown = api.post("/candidates/merge", {"survivor_id": person.pk, "merged_id": "424242"})
    missing = api.post("/candidates/merge", {"survivor_id": person.pk})

    assert itself.status_code == 422 and "merged_id" in error_of(itself)["fields"]
    assert unknown.status_code == 404 and "merged_id" in error_of(unknown)["fields"]
    assert missing.status_code == 422 and "merged_id" in error_of(missing)["fields"]


def test_relationship_status_names_match_the_model():
    from rapport.candidates.api import ChannelName, RelationshipStatusName
    from rapport.candidates.models import Channel

    assert set(RelationshipStatusName.__args__) == set(RelationshipStatus.values)
    assert set(ChannelName.__args__) == set(Channel.values)
