"""The templates API: create, list, get, change, delete and preview, with the API's error format."""

from rapport.messaging.models import MessageTemplate
from rapport.timeline.models import AuditEntry
from tests.api.conftest import error_of

INVITE = {
    "name": "Interview invite",
    "channel": "email",
    "category": "interview",
    "subject": "Interview for {{ job.title }}",
    "body": "Hi {{ candidate.first_name }},\n\nWould you like to meet the team?",
    "language": "en",
    "variants": [
        {"language": "fr", "subject": "Entretien : {{ job.title }}", "body": "Bonjour {{ candidate.first_name }}"}
    ],
}


def test_a_template_is_created_read_listed_changed_and_deleted(api_as, recruiter):
    api = api_as(recruiter)

    created = api.post("/templates", INVITE)
    template_id = created.json()["id"]
    fetched = api.get(f"/templates/{template_id}")
    listed = api.get("/templates", {"category": "interview"})
    other_channel = api.get("/templates", {"channel": "sms"})
    changed = api.patch(f"/templates/{template_id}", {"name": "Invite (v2)", "variants": []})
    deleted = api.delete(f"/templates/{template_id}")

    assert created.status_code == 201
    body = created.json()
    assert body["channel"] == "email" and body["category"] == "interview"
    assert body["variants"] == INVITE["variants"]
    assert body["created_by_id"] == str(recruiter.pk)
    assert fetched.json() == body
    assert [t["id"] for t in listed.json()["items"]] == [template_id]
    assert other_channel.json() == {"items": [], "next_cursor": None}
    assert changed.status_code == 200
    assert changed.json()["name"] == "Invite (v2)" and changed.json()["variants"] == []
    assert deleted.status_code == 204
    assert not MessageTemplate.objects.exists()
    assert set(AuditEntry.objects.filter(object_type="message_template").values_list("action", flat=True)) == {
        "create",
        "update",
        "delete",
    }


def test_an_unknown_merge_field_is_422_naming_the_field_and_line(api_as, recruiter):
    response = api_as(recruiter).post(
        "/templates", {**INVITE, "body": "Hi,\n\nthanks\n{{ candidate.frist_name }}", "variants": []}
    )

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["message"].startswith("body, line 4: unknown field candidate.frist_name")
    assert list(error["fields"]) == ["body"]
    assert not MessageTemplate.objects.exists()


def test_schema_errors_are_422_naming_the_field(api_as, recruiter):
    api = api_as(recruiter)

    no_body = api.post("/templates", {"name": "x", "channel": "email"})
    bad_channel = api.post("/templates", {**INVITE, "channel": "fax"})
    unknown = api.post("/templates", {**INVITE, "colour": "red"})
    syntax = api.post("/templates", {**INVITE, "subject": "{{ candidate.first_name"})

    assert no_body.status_code == 422 and "body" in error_of(no_body)["fields"]
    assert bad_channel.status_code == 422 and "channel" in error_of(bad_channel)["fields"]
    assert unknown.status_code == 422 and "colour" in error_of(unknown)["fields"]
    assert syntax.status_code == 422 and error_of(syntax)["fields"]["subject"][0].startswith("line 1: syntax error")


def test_a_template_becomes_a_stages_default(api_as, recruiter, world):
    api = api_as(recruiter)
    stage = world["job"].stages.get(name="Interview")

    created = api.post("/templates", {**INVITE, "stage_id": str(stage.pk)})
    cleared = api.patch(f"/templates/{created.json()['id']}", {"stage_id": None})

    assert created.json()["stage_ids"] == [str(stage.pk)]
    assert cleared.json()["stage_ids"] == []


def test_preview_renders_subject_html_and_text_in_the_persons_language(api_as, world):
    api = api_as(world["recruiter"])
    grace = world["applicant"]
    grace.language = "fr"
    grace.save()
    template_id = api.post("/templates", INVITE).json()["id"]

    response = api.post(
        f"/templates/{template_id}/preview", {"candidate_id": str(grace.pk), "job_id": str(world["job"].pk)}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["subject"] == "Entretien : Platform Engineer"
    assert body["language"] == "fr"
    assert "Bonjour Grace" in body["html"] and "Bonjour Grace" in body["text"]


def test_preview_without_a_needed_job_is_422_naming_the_field(api_as, world):
    api = api_as(world["recruiter"])
    template_id = api.post("/templates", INVITE).json()["id"]

    response = api.post(f"/templates/{template_id}/preview", {"candidate_id": str(world["bystander"].pk)})

    assert response.status_code == 422
    assert "subject" in error_of(response)["fields"]


def test_preview_against_an_unknown_person_is_404(api_as, recruiter):
    api = api_as(recruiter)
    template_id = api.post("/templates", {**INVITE, "subject": "Hi", "variants": []}).json()["id"]

    response = api.post(f"/templates/{template_id}/preview", {"candidate_id": "424242"})

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_other_roles_cannot_see_or_use_templates(api_as, world, make_template):
    template = make_template()
    api = api_as(world["hiring_manager"])

    assert api.get("/templates").json() == {"items": [], "next_cursor": None}
    assert api.get(f"/templates/{template.pk}").status_code == 404
    assert api.patch(f"/templates/{template.pk}", {"name": "Mine"}).status_code == 404
    assert api.delete(f"/templates/{template.pk}").status_code == 404
    preview = api.post(f"/templates/{template.pk}/preview", {"candidate_id": str(world["applicant"].pk)})
    assert preview.status_code == 404
    created = api.post("/templates", {"name": "Mine", "channel": "sms", "body": "Hi"})
    assert created.status_code == 403 and error_of(created)["code"] == "forbidden"


def test_templates_are_paginated(api_as, recruiter, make_template):
    for n in range(3):
        make_template(name=f"T{n}")
    api = api_as(recruiter)

    first = api.get("/templates", {"limit": 2}).json()
    second = api.get("/templates", {"limit": 2, "cursor": first["next_cursor"]}).json()

    assert [t["name"] for t in first["items"]] == ["T2", "T1"]
    assert [t["name"] for t in second["items"]] == ["T0"]
    assert second["next_cursor"] is None


def test_a_repeated_idempotency_key_creates_once(api_as, recruiter):
    api = api_as(recruiter)

    first = api.post("/templates", INVITE, **{"Idempotency-Key": "abc"})
    again = api.post("/templates", INVITE, **{"Idempotency-Key": "abc"})

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert MessageTemplate.objects.count() == 1
