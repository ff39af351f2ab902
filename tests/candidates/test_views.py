"""The candidate pages: list, search and filters, profile, create/edit, notes, side actions, bulk, merge, erase."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from rapport.candidates.models import Attachment, Candidate, CandidateEmail, PoolMembership
from rapport.candidates.services import attachment_add, pool_create
from rapport.pipeline.models import Application
from rapport.timeline.models import Activity, AuditEntry, Note
from tests.factories import make_candidate, make_job

PDF = b"%PDF-1.4\n% a tiny but real-looking PDF header\n"
HTMX = {"HTTP_HX_REQUEST": "true"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def detail_url(candidate) -> str:
    return reverse("candidates:detail", args=[candidate.pk])


# ---------------------------------------------------------------- list, search and filters


def test_list_requires_sign_in(db):
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_list_shows_people_with_total_and_actions(world):
    response = client_for(world["recruiter"]).get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Grace Hopper" in body and "Alan Turing" in body
    assert "2 people" in body
    assert "Add candidate" in body
    assert "data-bulk-item" in body


def test_search_finds_by_name_and_htmx_returns_only_results(world):
    client = client_for(world["recruiter"])
    response = client.get("/", {"q": "hopper"}, HTTP_HX_TARGET="candidate-results", **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="candidate-results"' in body
    assert "<html" not in body
    assert "Grace Hopper" in body and "Alan Turing" not in body
    assert "Sorted by relevance" in body


def test_filters_narrow_and_show_removable_chips(world):
    client = client_for(world["recruiter"])
    response = client.get("/", {"job": world["job"].pk, "status": "applicant"})
    body = response.content.decode()
    assert "Grace Hopper" in body and "Alan Turing" not in body
    assert "Job:</span> Platform Engineer" in body
    assert "Relationship:</span> Applicant" in body
    assert "Clear all" in body


def test_bad_filter_value_shows_a_message_not_an_error_page(world):
    response = client_for(world["recruiter"]).get("/", {"created_after": "yesterday-ish"})
    assert response.status_code == 200
    assert "Added after" in response.content.decode()
    assert "Use a date like" in response.content.decode()


def test_bad_cursor_is_a_message_not_a_500(world):
    response = client_for(world["recruiter"]).get("/", {"cursor": "%%%not-a-cursor"})
    assert response.status_code == 200
    assert "cursor" in response.content.decode().lower()


def test_keyset_pages_cover_everyone_once(recruiter):
    for i in range(55):
        make_candidate(actor=recruiter, first_name=f"Person{i:02d}", last_name="Paged")
    client = client_for(recruiter)
    first = client.get("/", {"sort": "name"})
    assert first.context["next_url"]
    seen = {c.pk for c in first.context["candidates"]}
    second = client.get(first.context["next_url"], HTTP_HX_TARGET="load-more-row", **HTMX)
    assert second.status_code == 200
    more = {c.pk for c in second.context["candidates"]}
    assert not seen & more
    assert len(seen | more) == 55
    assert "<html" not in second.content.decode()


def test_hiring_manager_sees_only_their_applicants_and_no_bulk_edit(world):
    response = client_for(world["hiring_manager"]).get("/")
    body = response.content.decode()
    assert "Grace Hopper" in body and "Alan Turing" not in body
    assert "Add candidate" not in body
    assert "data-bulk-item" not in body


def test_outsider_sees_an_empty_list(world):
    response = client_for(world["outsider"]).get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Grace Hopper" not in body
    assert "No candidates to show yet" in body


def test_empty_workspace_offers_import_and_add(recruiter):
    body = client_for(recruiter).get("/").content.decode()
    assert "No candidates yet: import a CSV or add one" in body
    assert 'href="/import/"' in body and 'href="/candidates/new/"' in body


# ---------------------------------------------------------------- profile


def test_profile_shows_header_applications_and_timeline(world):
    world["applicant"].timezone = "Europe/Berlin"
    world["applicant"].save()
    response = client_for(world["recruiter"]).get(detail_url(world["applicant"]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Grace Hopper" in body
    assert "Platform Engineer" in body
    assert "their time" in body
    assert "added Grace to <strong>Platform Engineer</strong>" in body
    assert "Erase personal data" not in body  # recruiters cannot erase


def test_profile_renders_stage_change_as_a_sentence(world):
    from rapport.pipeline.services import application_move

    application = world["application"]
    next_stage = application.job.stages.order_by("position")[1]
    application_move(actor=world["recruiter"], application=application, stage=next_stage)
    body = client_for(world["recruiter"]).get(detail_url(world["applicant"])).content.decode()
    assert (
        f"<strong>Riley Recruiter</strong> moved Grace from {application.job.stages.order_by('position')[0].name} "
        f"to <strong>{next_stage.name}</strong> on <strong>Platform Engineer</strong>"
    ) in body


def test_profile_timeline_filters_by_group_and_pages(world, recruiter):
    from rapport.timeline.services import note_add

    for i in range(30):
        note_add(actor=recruiter, candidate=world["applicant"], body=f"note number {i}")
    client = client_for(recruiter)
    url = reverse("candidates:timeline", args=[world["applicant"].pk])
    notes_only = client.get(url, {"group": "notes"}, **HTMX)
    assert notes_only.status_code == 200
    assert all(a.type == "note.added" for a in notes_only.context["activities"])
    assert len(notes_only.context["activities"]) == 25
    more = client.get(notes_only.context["timeline_next_url"], **HTMX)
    assert len(more.context["activities"]) == 5
    assert 'hx-swap-oob="true"' in more.content.decode()


def test_admin_sees_erase_with_a_confirmation_naming_what_happens(world):
    body = client_for(world["admin"]).get(detail_url(world["applicant"])).content.decode()
    assert "Erase personal data" in body
    assert "data-confirm=" in body and "cannot be undone" in body


def test_interviewer_sees_profile_without_edit_actions(world):
    body = client_for(world["interviewer"]).get(detail_url(world["applicant"])).content.decode()
    assert "Grace Hopper" in body
    assert "Add note" in body
    assert reverse("candidates:edit", args=[world["applicant"].pk]) not in body
    assert "Add to job" not in body


def test_note_body_is_sanitised(world):
    client = client_for(world["recruiter"])
    client.post(
        reverse("candidates:note_add", args=[world["applicant"].pk]),
        {"kind": "note", "body": "**Strong** <script>alert(1)</script>"},
        **HTMX,
    )
    body = client.get(detail_url(world["applicant"])).content.decode()
    assert "<strong>Strong</strong>" in body
    assert "<script>alert(1)</script>" not in body


# ---------------------------------------------------------------- notes


def test_add_note_via_htmx_returns_the_new_item_and_a_fresh_composer(world):
    response = client_for(world["recruiter"]).post(
        reverse("candidates:note_add", args=[world["applicant"].pk]),
        {"kind": "note", "body": "Great call, wants remote."},
        **HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Great call, wants remote." in body
    assert "added a note" in body
    assert 'id="composer"' in body and 'hx-swap-oob="true"' in body
    assert "Note added" in response["HX-Trigger"]
    assert Note.objects.filter(candidate=world["applicant"]).count() == 1


def test_log_call_records_duration_and_outcome(world):
    client_for(world["recruiter"]).post(
        reverse("candidates:note_add", args=[world["applicant"].pk]),
        {"kind": "call", "body": "Talked salary.", "duration_minutes": "15", "outcome": "connected"},
        **HTMX,
    )
    activity = Activity.objects.get(candidate=world["applicant"], type="call.logged")
    assert activity.payload["duration_minutes"] == 15
    assert activity.payload["outcome"] == "connected"


def test_empty_note_is_refused_next_to_the_field(world):
    response = client_for(world["recruiter"]).post(
        reverse("candidates:note_add", args=[world["applicant"].pk]), {"kind": "note", "body": "  "}, **HTMX
    )
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#composer"
    assert "Write something before saving." in response.content.decode()
    assert not Note.objects.exists()


def test_hiring_manager_can_note_their_applicant_but_not_the_bystander(world):
    client = client_for(world["hiring_manager"])
    ok = client.post(
        reverse("candidates:note_add", args=[world["applicant"].pk]), {"kind": "note", "body": "Seen."}, **HTMX
    )
    assert ok.status_code == 200
    hidden = client.post(
        reverse("candidates:note_add", args=[world["bystander"].pk]), {"kind": "note", "body": "Seen."}, **HTMX
    )
    assert hidden.status_code == 404


# ---------------------------------------------------------------- create, edit, duplicates


def test_create_person_with_several_emails_and_custom_field(recruiter, admin_user):
    from rapport.candidates.services import custom_field_create

    custom_field_create(actor=admin_user, key="notice", label="Notice period (weeks)", field_type="number")
    response = client_for(recruiter).post(
        reverse("candidates:create"),
        {
            "first_name": "Katherine",
            "last_name": "Johnson",
            "emails": ["kj@example.org", "katherine@example.net"],
            "phones": ["+1 415 555 0100"],
            "country": "us",
            "timezone": "America/New_York",
            "skills": "orbital mechanics, fortran",
            "tags": "nasa, math",
            "relationship_status": "lead",
            "preferred_channel": "email",
            "cf_notice": "4",
        },
    )
    person = Candidate.objects.get(first_name="Katherine")
    assert response.status_code == 302
    assert response["Location"] == detail_url(person)
    assert list(person.emails.values_list("email", flat=True)) == ["kj@example.org", "katherine@example.net"]
    assert person.skills == ["orbital mechanics", "fortran"]
    assert person.country == "US"
    assert person.owner == recruiter
    assert person.custom_fields == {"notice": 4}


def test_create_with_bad_input_shows_field_errors_and_writes_nothing(recruiter):
    response = client_for(recruiter).post(
        reverse("candidates:create"),
        {
            "first_name": "",
            "emails": ["not-an-email"],
            "timezone": "Mars/Olympus",
            "relationship_status": "lead",
            "preferred_channel": "email",
        },
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert "first_name" in form.errors
    assert not Candidate.objects.exists()


def test_service_errors_land_next_to_their_fields(recruiter):
    response = client_for(recruiter).post(
        reverse("candidates:create"),
        {
            "first_name": "Ada",
            "emails": ["not-an-email"],
            "timezone": "Mars/Olympus",
            "links": ["ftp://example.org"],
            "relationship_status": "lead",
            "preferred_channel": "email",
        },
    )
    errors = response.context["form"].errors
    assert "emails" in errors and "timezone" in errors and "links" in errors
    body = response.content.decode()
    assert 'aria-invalid="true"' in body
    assert not Candidate.objects.exists()


def test_duplicate_email_offers_the_existing_person(world):
    response = client_for(world["recruiter"]).post(
        reverse("candidates:create"),
        {
            "first_name": "G.",
            "last_name": "Hopper",
            "emails": ["GRACE@example.org"],
            "relationship_status": "lead",
            "preferred_channel": "email",
            "skills": "cobol",
        },
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "This email already belongs to" in body
    assert detail_url(world["applicant"]) in body
    assert f'name="merge_into" value="{world["applicant"].pk}"' in body
    assert Candidate.objects.count() == 2


def test_duplicate_can_be_merged_into_the_existing_person(world):
    response = client_for(world["recruiter"]).post(
        reverse("candidates:create"),
        {
            "first_name": "G.",
            "emails": ["grace@example.org", "grace.h@example.net"],
            "relationship_status": "lead",
            "preferred_channel": "email",
            "skills": "cobol",
            "merge_into": world["applicant"].pk,
        },
    )
    assert response.status_code == 302
    grace = Candidate.objects.get(pk=world["applicant"].pk)
    assert grace.first_name == "Grace"  # never overwritten
    assert set(grace.emails.values_list("email", flat=True)) == {"grace@example.org", "grace.h@example.net"}
    assert "cobol" in grace.skills
    assert Candidate.objects.count() == 2


def test_edit_prefills_and_saves(world):
    client = client_for(world["recruiter"])
    url = reverse("candidates:edit", args=[world["applicant"].pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'value="grace@example.org"' in page.content.decode()
    response = client.post(
        url,
        {
            "first_name": "Grace",
            "last_name": "Hopper",
            "current_title": "Rear Admiral",
            "emails": ["grace@example.org"],
            "relationship_status": "engaged",
            "preferred_channel": "phone",
        },
    )
    assert response.status_code == 302
    grace = Candidate.objects.get(pk=world["applicant"].pk)
    assert grace.current_title == "Rear Admiral"
    assert grace.relationship_status == "engaged"


def test_edit_with_bad_input_shows_errors_and_changes_nothing(world):
    before = Candidate.objects.get(pk=world["applicant"].pk)
    response = client_for(world["recruiter"]).post(
        reverse("candidates:edit", args=[world["applicant"].pk]),
        {
            "first_name": "Grace",
            "current_title": "Changed",
            "emails": ["grace@example.org", "broken@"],
            "birthday": "2999-01-01",
            "relationship_status": "engaged",
            "preferred_channel": "email",
        },
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "emails" in errors
    after = Candidate.objects.get(pk=world["applicant"].pk)
    assert after.current_title == before.current_title
    assert after.relationship_status == before.relationship_status
    assert list(after.emails.values_list("email", flat=True)) == ["grace@example.org"]


def test_edit_to_someone_elses_email_is_refused(world):
    response = client_for(world["recruiter"]).post(
        reverse("candidates:edit", args=[world["applicant"].pk]),
        {
            "first_name": "Grace",
            "emails": ["alan@example.org"],
            "relationship_status": "lead",
            "preferred_channel": "email",
        },
    )
    assert response.status_code == 422
    assert "This email already belongs to" in response.content.decode()
    assert CandidateEmail.objects.get(email="alan@example.org").candidate_id == world["bystander"].pk


def test_inline_validation_returns_one_field_and_writes_nothing(world):
    response = client_for(world["recruiter"]).post(
        reverse("candidates:validate", args=[world["applicant"].pk]),
        {
            "_field": "timezone",
            "first_name": "Grace",
            "timezone": "Nowhere/Land",
            "relationship_status": "lead",
            "preferred_channel": "email",
        },
        **HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="field-timezone"' in body
    assert "is not a time zone" in body
    assert "<form" not in body
    assert Candidate.objects.get(pk=world["applicant"].pk).timezone == ""


def test_hiring_manager_cannot_open_create_or_edit(world):
    client = client_for(world["hiring_manager"])
    assert client.get(reverse("candidates:create")).status_code == 403
    assert client.get(reverse("candidates:edit", args=[world["applicant"].pk])).status_code == 403
    assert client.get(reverse("candidates:edit", args=[world["bystander"].pk])).status_code == 404


# ---------------------------------------------------------------- tags, pools, jobs


def test_tag_add_and_remove_inline(world):
    client = client_for(world["recruiter"])
    person = world["applicant"]
    added = client.post(reverse("candidates:tag_add", args=[person.pk]), {"tag": "Python"}, **HTMX)
    assert added.status_code == 200
    assert 'id="side-tags"' in added.content.decode() and "Python" in added.content.decode()
    removed = client.post(reverse("candidates:tag_remove", args=[person.pk]), {"tag": "python"}, **HTMX)
    assert "Python" not in removed.content.decode().split('id="tag-options"')[0]
    assert set(Activity.objects.filter(candidate=person, type__startswith="tag.").values_list("type", flat=True)) == {
        "tag.added",
        "tag.removed",
    }


def test_profile_add_to_pool_and_job(world, recruiter):
    pool = pool_create(actor=recruiter, name="Backend bench")
    other_job = make_job(actor=recruiter, title="Data Engineer")
    client = client_for(recruiter)
    person = world["bystander"]
    response = client.post(reverse("candidates:pool_add", args=[person.pk]), {"pool": pool.pk, "reason": "Go"}, **HTMX)
    assert response.status_code == 200
    assert PoolMembership.objects.filter(pool=pool, candidate=person, reason="Go").exists()
    response = client.post(reverse("candidates:job_add", args=[person.pk]), {"job": other_job.pk}, **HTMX)
    assert response.status_code == 200
    assert "Data Engineer" in response.content.decode()
    assert Application.objects.filter(candidate=person, job=other_job).exists()
    again = client.post(reverse("candidates:job_add", args=[person.pk]), {"job": other_job.pk}, **HTMX)
    assert "already on Data Engineer" in again.content.decode()
    assert Application.objects.filter(candidate=person, job=other_job).count() == 1


def test_the_add_to_job_and_pool_dialogs_fetch_their_menus_when_opened(world, recruiter):
    pool = pool_create(actor=recruiter, name="Backend bench")
    other_job = make_job(actor=recruiter, title="Data Engineer")
    client = client_for(recruiter)
    person = world["applicant"]
    profile = client.get(detail_url(person)).content.decode()
    job_menu_url = reverse("candidates:job_add_form", args=[person.pk])
    pool_menu_url = reverse("candidates:pool_add_form", args=[person.pk])
    assert f'data-lazy="{job_menu_url}"' in profile and f'data-lazy="{pool_menu_url}"' in profile
    assert 'name="job"' not in profile and 'name="pool"' not in profile

    job_menu = client.get(job_menu_url, **HTMX).content.decode()
    # The job the person is already on is not offered.
    assert f'<option value="{other_job.pk}">Data Engineer</option>' in job_menu
    assert f'<option value="{world["job"].pk}">' not in job_menu
    assert f'<option value="{pool.pk}">Backend bench</option>' in client.get(pool_menu_url, **HTMX).content.decode()

    client.post(reverse("candidates:job_add", args=[person.pk]), {"job": other_job.pk}, **HTMX)
    client.post(reverse("candidates:pool_add", args=[person.pk]), {"pool": pool.pk, "reason": ""}, **HTMX)
    # Opened again, the menus leave out what was just added.
    assert "There is no open job" in client.get(job_menu_url, **HTMX).content.decode()
    assert "No pools to add to" in client.get(pool_menu_url, **HTMX).content.decode()


@pytest.mark.parametrize("role", ["admin", "recruiter", "hiring_manager", "interviewer", "outsider"])
@pytest.mark.parametrize(
    "menu, action",
    [("candidates:job_add_form", "candidates:job_add"), ("candidates:pool_add_form", "candidates:pool_add")],
)
def test_every_role_against_the_dialog_menus(world, role, menu, action):
    expected = {"admin": 200, "recruiter": 200, "hiring_manager": 403, "interviewer": 403, "outsider": 404}[role]
    client = client_for(world[role])

    response = client.get(reverse(menu, args=[world["applicant"].pk]), **HTMX)

    assert response.status_code == expected
    form = f'hx-post="{reverse(action, args=[world["applicant"].pk])}"'
    assert (form in response.content.decode()) == (expected == 200)
    assert client.post(reverse(menu, args=[world["applicant"].pk]), **HTMX).status_code == 405


# ---------------------------------------------------------------- attachments


def test_upload_and_download_a_resume(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(world["recruiter"])
    upload = SimpleUploadedFile("cv.pdf", PDF, content_type="application/pdf")
    response = client.post(
        reverse("candidates:attachment_add", args=[world["applicant"].pk]), {"file": upload, "kind": "resume"}, **HTMX
    )
    assert response.status_code == 200
    attachment = Attachment.objects.get(candidate=world["applicant"])
    assert "cv.pdf" in response.content.decode()
    download = client.get(reverse("candidates:attachment_download", args=[world["applicant"].pk, attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert "attachment" in download["Content-Disposition"]
    assert "/media/" not in client.get(detail_url(world["applicant"])).content.decode()


def test_oversized_upload_is_refused_with_a_clear_message(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.RAPPORT_MAX_UPLOAD_MB = 1
    big = SimpleUploadedFile("cv.pdf", PDF + b"0" * (1024 * 1024 + 10), content_type="application/pdf")
    response = client_for(world["recruiter"]).post(
        reverse("candidates:attachment_add", args=[world["applicant"].pk]), {"file": big, "kind": "resume"}, **HTMX
    )
    assert "the limit is 1 MB" in response.content.decode()
    assert not Attachment.objects.exists()


def test_wrong_type_upload_is_refused(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    exe = SimpleUploadedFile("cv.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = client_for(world["recruiter"]).post(
        reverse("candidates:attachment_add", args=[world["applicant"].pk]), {"file": exe}, **HTMX
    )
    assert ".exe is not accepted" in response.content.decode()
    fake = SimpleUploadedFile("cv.pdf", b"not a pdf at all", content_type="application/pdf")
    response = client_for(world["recruiter"]).post(
        reverse("candidates:attachment_add", args=[world["applicant"].pk]), {"file": fake}, **HTMX
    )
    assert "not a real .pdf" in response.content.decode()
    assert not Attachment.objects.exists()


def test_download_is_scoped_to_people_you_can_see(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    attachment = attachment_add(
        actor=world["recruiter"],
        candidate=world["bystander"],
        upload=SimpleUploadedFile("cv.pdf", PDF),
        kind="resume",
    )
    url = reverse("candidates:attachment_download", args=[world["bystander"].pk, attachment.pk])
    assert client_for(world["recruiter"]).get(url).status_code == 200
    assert client_for(world["hiring_manager"]).get(url).status_code == 404
    assert client_for(world["outsider"]).get(url).status_code == 404
    # Someone else's file id under a person you can see is not found either.
    crossed = reverse("candidates:attachment_download", args=[world["applicant"].pk, attachment.pk])
    assert client_for(world["hiring_manager"]).get(crossed).status_code == 404


# ---------------------------------------------------------------- bulk actions and export


def test_bulk_tag_over_htmx_answers_no_content_with_a_toast(world):
    ids = [world["applicant"].pk, world["bystander"].pk]
    response = client_for(world["recruiter"]).post(
        reverse("candidates:bulk", args=["tag"]), {"ids": ids, "tag": "shortlist"}, **HTMX
    )
    assert response.status_code == 204
    assert "Tagged 2 people" in response["HX-Trigger"]
    assert "candidates:refresh" in response["HX-Trigger"]
    assert Candidate.objects.filter(candidate_tags__tag__name="shortlist").count() == 2


def test_bulk_pool_and_owner_without_javascript_redirect_back(world, recruiter, admin_user):
    pool = pool_create(actor=recruiter, name="Leaders")
    client = client_for(recruiter)
    ids = [world["applicant"].pk, world["bystander"].pk]
    response = client.post(reverse("candidates:bulk", args=["pool"]), {"ids": ids, "pool": pool.pk, "next": "/?q=x"})
    assert response.status_code == 302 and response["Location"] == "/?q=x"
    assert PoolMembership.objects.filter(pool=pool).count() == 2
    client.post(reverse("candidates:bulk", args=["owner"]), {"ids": ids, "owner": admin_user.pk})
    assert set(Candidate.objects.values_list("owner_id", flat=True)) == {admin_user.pk}


def test_bulk_add_to_job_skips_people_already_on_it(world, recruiter):
    ids = [world["applicant"].pk, world["bystander"].pk]
    response = client_for(recruiter).post(
        reverse("candidates:bulk", args=["job"]), {"ids": ids, "job": world["job"].pk}, **HTMX
    )
    assert response.status_code == 204
    assert "Added 1 person" in response["HX-Trigger"] and "already on it" in response["HX-Trigger"]
    assert Application.objects.filter(job=world["job"]).count() == 2


def test_bulk_without_selection_or_value_explains_itself(world):
    client = client_for(world["recruiter"])
    response = client.post(reverse("candidates:bulk", args=["tag"]), {"tag": "x"}, **HTMX)
    assert response.status_code == 422
    assert "Select at least one person" in response.content.decode()
    response = client.post(reverse("candidates:bulk", args=["tag"]), {"ids": [world["applicant"].pk]}, **HTMX)
    assert response.status_code == 422
    assert "Type a tag" in response.content.decode()
    response = client.post(reverse("candidates:bulk", args=["tag"]), {"ids": ["abc"], "tag": "x"}, **HTMX)
    assert response.status_code == 422


def test_bulk_is_refused_for_roles_without_the_verb(world):
    response = client_for(world["hiring_manager"]).post(
        reverse("candidates:bulk", args=["tag"]), {"ids": [world["applicant"].pk], "tag": "x"}, **HTMX
    )
    assert response.status_code == 422
    assert not Candidate.objects.filter(candidate_tags__tag__name="x").exists()


def test_bulk_with_someone_out_of_scope_is_refused(world):
    response = client_for(world["hiring_manager"]).post(
        reverse("candidates:bulk", args=["tag"]), {"ids": [world["bystander"].pk], "tag": "x"}, **HTMX
    )
    assert response.status_code == 422
    assert "no longer exist" in response.content.decode()


def test_export_streams_csv_of_the_selection_and_is_audited(world):
    response = client_for(world["recruiter"]).post(reverse("candidates:export"), {"ids": [world["applicant"].pk]})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "id"
    assert [r[1] for r in rows[1:]] == ["Grace"]
    assert AuditEntry.objects.filter(action="export").exists()


# ---------------------------------------------------------------- merge and erase


def test_merge_search_then_confirm(world):
    client = client_for(world["recruiter"])
    url = reverse("candidates:merge", args=[world["applicant"].pk])
    found = client.get(url, {"q": "turing"}, HTTP_HX_TARGET="merge-results", **HTMX)
    assert "Alan Turing" in found.content.decode() and "<html" not in found.content.decode()
    confirm = client.get(url, {"other": world["bystander"].pk})
    assert "Which record do you want to keep?" in confirm.content.decode()
    response = client.post(url, {"other": world["bystander"].pk, "keep": "this"})
    assert response.status_code == 302
    assert not Candidate.objects.filter(pk=world["bystander"].pk).exists()
    grace = Candidate.objects.get(pk=world["applicant"].pk)
    assert set(grace.emails.values_list("email", flat=True)) == {"grace@example.org", "alan@example.org"}


def test_merge_with_self_is_refused(world):
    url = reverse("candidates:merge", args=[world["applicant"].pk])
    response = client_for(world["recruiter"]).post(url, {"other": world["applicant"].pk, "keep": "this"})
    assert response.status_code == 422
    assert Candidate.objects.filter(pk=world["applicant"].pk).exists()


def test_erase_is_admin_only(world):
    url = reverse("candidates:erase", args=[world["applicant"].pk])
    assert client_for(world["recruiter"]).post(url).status_code == 403
    assert client_for(world["admin"]).post(url).status_code == 302
    assert Candidate.objects.get(pk=world["applicant"].pk).erased_at is not None


# ---------------------------------------------------------------- every page, every role


def _pages(world) -> list[tuple[str, str, dict]]:
    a = world["applicant"].pk
    return [
        ("get", reverse("candidates:detail", args=[a]), {}),
        ("get", reverse("candidates:timeline", args=[a]), {}),
        ("get", reverse("candidates:edit", args=[a]), {}),
        ("get", reverse("candidates:merge", args=[a]), {}),
        ("post", reverse("candidates:note_add", args=[a]), {"kind": "note", "body": "hi"}),
        ("post", reverse("candidates:tag_add", args=[a]), {"tag": "matrix"}),
        ("post", reverse("candidates:tag_remove", args=[a]), {"tag": "matrix"}),
        ("post", reverse("candidates:job_add", args=[a]), {"job": world["job"].pk}),
        ("post", reverse("candidates:attachment_add", args=[a]), {}),
        ("post", reverse("candidates:erase", args=[a]), {}),
    ]


# Per role: which pages answer with the page (2xx/3xx/422), which with 403 (in scope, verb not allowed).
ALLOWED_STATUS = {200, 302, 422}


@pytest.mark.parametrize("role", ["admin", "recruiter", "hiring_manager", "interviewer", "outsider"])
def test_every_profile_page_is_allowed_forbidden_or_404_by_role(world, role):
    client = client_for(world[role])
    for method, url, data in _pages(world):
        response = getattr(client, method)(url, data, **HTMX)
        if role == "outsider":
            assert response.status_code == 404, (role, url)
        elif role in ("admin", "recruiter"):
            expected_forbidden = role == "recruiter" and url.endswith("/erase/")
            if expected_forbidden:
                assert response.status_code == 403, (role, url)
            else:
                assert response.status_code in ALLOWED_STATUS, (role, url, response.status_code)
        else:
            reads_or_notes = url.endswith(("/timeline/", "/notes/")) or url == detail_url(world["applicant"])
            if reads_or_notes:
                assert response.status_code in ALLOWED_STATUS, (role, url, response.status_code)
            else:
                # In scope but not allowed: either forbidden outright or refused with an explanation.
                assert response.status_code in {403, 200, 422}, (role, url, response.status_code)
                assert response.status_code != 500


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer", "outsider"])
def test_scoped_roles_get_404_for_people_outside_their_scope(world, role):
    client = client_for(world[role])
    b = world["bystander"].pk
    for url in [
        reverse("candidates:detail", args=[b]),
        reverse("candidates:timeline", args=[b]),
        reverse("candidates:edit", args=[b]),
        reverse("candidates:merge", args=[b]),
    ]:
        assert client.get(url).status_code == 404, (role, url)
    for url in [
        reverse("candidates:note_add", args=[b]),
        reverse("candidates:tag_add", args=[b]),
        reverse("candidates:erase", args=[b]),
    ]:
        assert client.post(url, {"body": "x", "tag": "x"}).status_code == 404, (role, url)


def test_unknown_person_is_404(recruiter):
    assert client_for(recruiter).get("/candidates/999999/").status_code == 404
