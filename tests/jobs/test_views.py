"""The jobs pages: list, create/edit, the job page with its kanban, adding people, stage settings, admin settings."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rapport.candidates.models import CustomFieldDefinition
from rapport.jobs.models import Client, Job, JobStatus, Stage, StageTemplate
from rapport.jobs.views import CARDS_PER_COLUMN
from rapport.pipeline.models import Application, RejectionReason
from rapport.pipeline.services import application_create, application_reject, rejection_reasons_ensure
from tests.factories import make_candidate, make_job

pytestmark = pytest.mark.django_db


def _job_data(**overrides):
    data = {
        "title": "Data Engineer",
        "status": "open",
        "department": "Data",
        "location": "Lisbon",
        "workplace_type": "hybrid",
        "employment_type": "full_time",
        "openings": "2",
        "hiring_manager": "",
        "recruiter": "",
        "client": "",
        "new_client": "",
        "opened_on": "",
        "closed_on": "",
        "description": "Build pipelines.",
    }
    data.update(overrides)
    return data


def _people(recruiter, n, prefix="Person"):
    return [
        make_candidate(actor=recruiter, first_name=f"{prefix}{i}", last_name="Example", emails=[f"{prefix}{i}@ex.org"])
        for i in range(n)
    ]


# --- List -------------------------------------------------------------------------------------------------------


def test_the_jobs_list_shows_each_job_with_its_status_and_counts_per_stage(client, world):
    job = world["job"]
    client_row = Client.objects.create(name="Acme")
    Job.objects.filter(pk=job.pk).update(client=client_row)
    client.force_login(world["recruiter"])

    response = client.get(reverse("jobs:list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Platform Engineer" in html
    assert "Acme" in html
    assert world["hiring_manager"].name in html
    assert 'badge--job-open">Open' in html
    first_stage = job.stages.order_by("position").first()
    assert f'title="{first_stage.name}: 1"' in html


def test_the_jobs_list_costs_the_same_queries_for_two_jobs_or_twelve(client, recruiter):
    client.force_login(recruiter)
    people = _people(recruiter, 3)

    def add_jobs(n):
        for i in range(n):
            job = make_job(actor=recruiter, title=f"Job {Job.objects.count()}-{i}")
            for person in people:
                application_create(actor=recruiter, candidate=person, job=job)

    add_jobs(2)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("jobs:list"))
    add_jobs(10)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("jobs:list"))

    assert response.content.decode().count("data-row>") == 12
    assert len(many) == len(few)


def test_the_jobs_list_filters_by_status_and_searches_titles(client, recruiter):
    make_job(actor=recruiter, title="Backend Engineer", status=JobStatus.OPEN)
    make_job(actor=recruiter, title="Office Manager", status=JobStatus.DRAFT)
    client.force_login(recruiter)

    drafts = client.get(reverse("jobs:list"), {"status": "draft"}).content.decode()
    searched = client.get(reverse("jobs:list"), {"q": "backend"}).content.decode()
    nothing = client.get(reverse("jobs:list"), {"q": "astronaut"}).content.decode()

    assert "Office Manager" in drafts and "Backend Engineer" not in drafts
    assert "Backend Engineer" in searched and "Office Manager" not in searched
    assert "No jobs match" in nothing


def test_an_unknown_status_filter_is_ignored_not_an_error(client, recruiter):
    make_job(actor=recruiter, title="Backend Engineer")
    client.force_login(recruiter)

    response = client.get(reverse("jobs:list"), {"status": "bogus", "page": "x"})

    assert response.status_code == 200
    assert "Backend Engineer" in response.content.decode()


def test_the_search_box_over_htmx_swaps_only_the_table(client, recruiter):
    make_job(actor=recruiter, title="Backend Engineer")
    client.force_login(recruiter)

    response = client.get(reverse("jobs:list"), {"q": "backend"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="job-table")

    html = response.content.decode()
    assert "Backend Engineer" in html
    assert "<html" not in html


def test_an_empty_workspace_offers_to_create_a_job(client, recruiter):
    client.force_login(recruiter)

    html = client.get(reverse("jobs:list")).content.decode()

    assert "No jobs yet" in html
    assert "Create a job" in html


def test_a_hiring_manager_sees_only_their_jobs_and_no_create_button(client, world):
    make_job(actor=world["recruiter"], title="Someone Else's Job")
    client.force_login(world["hiring_manager"])

    html = client.get(reverse("jobs:list")).content.decode()

    assert "Platform Engineer" in html
    assert "Someone Else&#x27;s Job" not in html and "Someone Else's Job" not in html
    assert reverse("jobs:create") not in html


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    response = client.get(reverse("jobs:detail", args=[world["job"].pk]))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- Create and edit ----------------------------------------------------------------------------------------------


def test_creating_a_job_saves_every_field_and_gives_it_the_default_stages(client, recruiter, hiring_manager):
    acme = Client.objects.create(name="Acme")
    client.force_login(recruiter)

    response = client.post(
        reverse("jobs:create"),
        _job_data(
            hiring_manager=str(hiring_manager.pk),
            recruiter=str(recruiter.pk),
            client=str(acme.pk),
            opened_on="2026-01-05",
            closed_on="2026-03-01",
        ),
    )

    job = Job.objects.get(title="Data Engineer")
    assert response.status_code == 302
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert (job.department, job.location, job.workplace_type, job.employment_type) == (
        "Data",
        "Lisbon",
        "hybrid",
        "full_time",
    )
    assert (job.openings, job.hiring_manager, job.recruiter, job.client) == (2, hiring_manager, recruiter, acme)
    assert str(job.opened_on) == "2026-01-05" and str(job.closed_on) == "2026-03-01"
    assert job.description == "Build pipelines."
    assert [s.name for s in job.stages.order_by("position")] == [
        "Sourced",
        "Applied",
        "Screening",
        "Interview",
        "Offer",
        "Hired",
    ]


def test_a_new_client_can_be_named_on_the_job_form(client, recruiter):
    client.force_login(recruiter)

    client.post(reverse("jobs:create"), _job_data(new_client="Globex"))

    assert Job.objects.get(title="Data Engineer").client.name == "Globex"


@pytest.mark.parametrize(
    ("overrides", "field_id", "message"),
    [
        ({"title": ""}, "title", "A job needs a title."),
        ({"openings": "0"}, "openings", "Give a number of openings from 1 to 1000."),
        ({"openings": "lots"}, "openings", "Give a number of openings from 1 to 1000."),
        ({"status": "maybe"}, "status", "Select a valid choice"),
        ({"hiring_manager": "999999"}, "hiring_manager", "Choose an active team member."),
        ({"opened_on": "31/01/2026"}, "opened_on", "Use a date like 2026-01-31."),
        ({"opened_on": "2026-02-01", "closed_on": "2026-01-01"}, "closed_on", "cannot be before the opening date"),
        ({"title": "x" * 151}, "title", "at most 150 characters"),
    ],
)
def test_bad_job_input_is_shown_next_to_the_field_and_nothing_is_written(
    client, recruiter, overrides, field_id, message
):
    client.force_login(recruiter)

    response = client.post(reverse("jobs:create"), _job_data(**overrides))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="field-{field_id}"' in html
    field_html = html.split(f'id="field-{field_id}"', 1)[1].split('id="field-', 1)[0]
    assert "field__error" in field_html and message in field_html
    assert not Job.objects.exists()


def test_a_new_client_whose_name_is_taken_is_refused_and_no_job_is_created(client, recruiter):
    Client.objects.create(name="Globex")
    client.force_login(recruiter)

    response = client.post(reverse("jobs:create"), _job_data(new_client="globex"))

    assert "A client with this name already exists." in response.content.decode()
    assert not Job.objects.exists()
    assert Client.objects.count() == 1


def test_the_recruiter_must_be_a_recruiter_or_an_admin(client, recruiter, interviewer):
    client.force_login(recruiter)

    response = client.post(reverse("jobs:create"), _job_data(recruiter=str(interviewer.pk)))

    assert "Choose an admin or a recruiter." in response.content.decode()
    assert not Job.objects.exists()


def test_editing_a_job_changes_it_and_bad_input_changes_nothing(client, world):
    job = world["job"]
    client.force_login(world["recruiter"])

    ok = client.post(reverse("jobs:edit", args=[job.pk]), _job_data(title="Senior Platform Engineer", status="on_hold"))
    bad = client.post(reverse("jobs:edit", args=[job.pk]), _job_data(title="", openings="-3"))

    job.refresh_from_db()
    assert ok.status_code == 302
    assert bad.status_code == 200
    assert "A job needs a title." in bad.content.decode()
    assert (job.title, job.status, job.openings) == ("Senior Platform Engineer", "on_hold", 2)


def test_the_edit_form_is_prefilled(client, world):
    client.force_login(world["recruiter"])

    html = client.get(reverse("jobs:edit", args=[world["job"].pk])).content.decode()

    assert 'value="Platform Engineer"' in html


@pytest.mark.parametrize(("role", "status"), [("hiring_manager", 403), ("interviewer", 403), ("outsider", 403)])
def test_only_admins_and_recruiters_may_create_jobs(client, world, role, status):
    client.force_login(world[role])

    assert client.get(reverse("jobs:create")).status_code == status
    assert client.post(reverse("jobs:create"), _job_data()).status_code == status
    assert Job.objects.count() == 1


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("recruiter", 200), ("hiring_manager", 403), ("interviewer", 403), ("outsider", 404)],
)
def test_who_may_edit_a_job(client, world, role, status):
    client.force_login(world[role])

    assert client.get(reverse("jobs:edit", args=[world["job"].pk])).status_code == status


# --- The job page -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("recruiter", 200), ("hiring_manager", 200), ("interviewer", 200), ("outsider", 404)],
)
def test_who_may_open_the_job_page(client, world, role, status):
    client.force_login(world[role])

    response = client.get(reverse("jobs:detail", args=[world["job"].pk]))

    assert response.status_code == status
    if status == 200:
        assert "Grace Hopper" in response.content.decode()


def test_a_missing_job_is_a_404(client, recruiter):
    client.force_login(recruiter)

    assert client.get("/jobs/999999/").status_code == 404


def test_the_interviewer_sees_only_the_people_assigned_to_them(client, world):
    application_create(actor=world["recruiter"], candidate=world["bystander"], job=world["job"])
    client.force_login(world["interviewer"])

    html = client.get(reverse("jobs:detail", args=[world["job"].pk])).content.decode()

    assert "Grace Hopper" in html
    assert "Alan Turing" not in html
    assert "data-card-menu" not in html  # interviewers cannot move anyone, so cards have no move menu


def test_the_board_has_a_column_per_stage_with_counts_and_cards_linking_to_profiles(client, world):
    job = world["job"]
    client.force_login(world["recruiter"])

    html = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()

    for stage in job.stages.all():
        assert f'data-stage-id="{stage.pk}"' in html
        assert f"stage-{stage.category}" in html
    assert f'href="/candidates/{world["applicant"].pk}/"' in html
    assert "data-days-text>0d<" in html
    assert 'aria-label="1 in Sourced"' in html
    assert "engagement-dot--low" in html
    # The page loads its own script and the vendored SortableJS, never a CDN.
    assert "/static/js/kanban.js" in html
    assert "/static/vendor/sortablejs/Sortable.min.js" in html
    assert "https://" not in html.split("</head>")[0]


def test_cards_are_ordered_longest_waiting_first(client, world):
    from datetime import timedelta

    from django.utils import timezone

    recruiter = world["recruiter"]
    job = world["job"]
    newer, older = _people(recruiter, 2, prefix="Wait")
    for person, days in ((newer, 1), (older, 9)):
        application = application_create(actor=recruiter, candidate=person, job=job)
        Application.objects.filter(pk=application.pk).update(stage_entered_at=timezone.now() - timedelta(days=days))
    client.force_login(recruiter)

    html = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()

    assert html.index("Wait1 Example") < html.index("Wait0 Example") < html.index("Grace Hopper")
    assert "9d<" in html


def test_the_board_costs_a_fixed_number_of_queries_however_many_applications(client, recruiter):
    job = make_job(actor=recruiter, title="Big job")
    client.force_login(recruiter)
    people = _people(recruiter, 40)
    for person in people[:3]:
        application_create(actor=recruiter, candidate=person, job=job)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("jobs:detail", args=[job.pk]))
    for person in people[3:]:
        application_create(actor=recruiter, candidate=person, job=job)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("jobs:detail", args=[job.pk]))

    assert response.content.decode().count("data-card ") == CARDS_PER_COLUMN
    assert len(many) == len(few)


def test_a_long_column_shows_the_first_cards_and_loads_the_rest_on_demand(client, recruiter):
    job = make_job(actor=recruiter, title="Big job")
    extra = 7
    for person in _people(recruiter, CARDS_PER_COLUMN + extra):
        application_create(actor=recruiter, candidate=person, job=job)
    stage = job.stages.order_by("position").first()
    client.force_login(recruiter)

    board = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    cursor = board.split("?after=", 1)[1].split('"', 1)[0].split("&amp;", 1)[0]
    more = client.get(
        reverse("jobs:column_more", args=[job.pk, stage.pk]) + f"?after={cursor}", HTTP_HX_REQUEST="true"
    ).content.decode()

    assert board.count("data-card ") == CARDS_PER_COLUMN
    assert f"{extra} left" in board
    assert more.count("data-card ") == extra
    assert "data-more" not in more
    shown = {
        line.split('data-id="', 1)[1].split('"', 1)[0]
        for line in (board + more).split("<li")[1:]
        if "data-card " in line
    }
    assert len(shown) == CARDS_PER_COLUMN + extra


def test_a_bad_show_more_cursor_is_a_400_not_a_500(client, world):
    job = world["job"]
    stage = job.stages.first()
    client.force_login(world["recruiter"])

    response = client.get(reverse("jobs:column_more", args=[job.pk, stage.pk]), {"after": "not-a-cursor"})

    assert response.status_code == 400


def test_show_more_for_a_stage_of_another_job_is_a_404(client, world):
    other = make_job(actor=world["recruiter"], title="Other")
    client.force_login(world["recruiter"])

    response = client.get(reverse("jobs:column_more", args=[world["job"].pk, other.stages.first().pk]))

    assert response.status_code == 404


def test_rejected_applications_are_hidden_until_asked_for(client, world):
    rejection_reasons_ensure()
    application_reject(
        actor=world["recruiter"], application=world["application"], reason_id=RejectionReason.objects.first().pk
    )
    client.force_login(world["recruiter"])

    hidden = client.get(reverse("jobs:detail", args=[world["job"].pk])).content.decode()
    shown = client.get(reverse("jobs:detail", args=[world["job"].pk]), {"closed": "1"}).content.decode()

    assert "Grace Hopper" not in hidden
    assert "Grace Hopper" in shown
    assert "badge--app-rejected" in shown


def test_the_board_fragment_refreshes_on_its_own(client, world):
    client.force_login(world["recruiter"])

    html = client.get(reverse("jobs:board", args=[world["job"].pk])).content.decode()

    assert "Grace Hopper" in html
    assert "<html" not in html


def test_the_reject_dialog_offers_only_active_reasons(client, world):
    rejection_reasons_ensure()
    retired = RejectionReason.objects.first()
    retired.is_active = False
    retired.save()
    client.force_login(world["recruiter"])

    html = client.get(reverse("jobs:detail", args=[world["job"].pk])).content.decode()

    assert 'id="reject-dialog"' in html
    assert RejectionReason.objects.filter(is_active=True).first().name in html
    assert f">{retired.name}<" not in html


# --- Adding people ------------------------------------------------------------------------------------------------


def test_the_people_picker_finds_people_and_marks_who_is_already_on_the_job(client, world):
    make_candidate(actor=world["recruiter"], first_name="Grace", last_name="Kelly", emails=["kelly@example.org"])
    client.force_login(world["recruiter"])

    html = client.get(reverse("jobs:people", args=[world["job"].pk]), {"q": "grace"}, HTTP_HX_REQUEST="true")
    html = html.content.decode()

    assert "Grace Hopper" in html and "Grace Kelly" in html
    assert "Already on this job" in html
    assert html.count('name="candidate_id"') == 1


def test_a_malformed_search_is_explained_in_the_picker(client, world):
    client.force_login(world["recruiter"])

    response = client.get(reverse("jobs:people", args=[world["job"].pk]), {"q": '"unclosed ('})

    assert response.status_code == 200


def test_adding_a_person_puts_them_in_the_first_stage_and_refreshes_the_board(client, world):
    client.force_login(world["recruiter"])

    response = client.post(
        reverse("jobs:people_add", args=[world["job"].pk]),
        {"candidate_id": world["bystander"].pk},
        HTTP_HX_REQUEST="true",
    )

    application = Application.objects.get(candidate=world["bystander"], job=world["job"])
    assert application.stage == world["job"].stages.order_by("position").first()
    assert "Added to Sourced" in response.content.decode()
    assert response["HX-Trigger"] == "kanban-refresh"


def test_adding_someone_already_on_the_job_says_so_and_adds_nothing(client, world):
    client.force_login(world["recruiter"])

    response = client.post(
        reverse("jobs:people_add", args=[world["job"].pk]),
        {"candidate_id": world["applicant"].pk},
        HTTP_HX_REQUEST="true",
    )

    assert "Grace Hopper is already on this job." in response.content.decode()
    assert "HX-Trigger" not in response
    assert Application.objects.filter(job=world["job"]).count() == 1


@pytest.mark.parametrize("candidate_id", ["", "abc", "999999"])
def test_adding_an_unknown_person_is_refused_clearly(client, world, candidate_id):
    client.force_login(world["recruiter"])

    response = client.post(
        reverse("jobs:people_add", args=[world["job"].pk]), {"candidate_id": candidate_id}, HTTP_HX_REQUEST="true"
    )

    assert "Choose a person from the search results." in response.content.decode()
    assert Application.objects.count() == 1


def test_adding_people_to_a_closed_job_is_refused(client, world):
    Job.objects.filter(pk=world["job"].pk).update(status=JobStatus.CLOSED)
    client.force_login(world["recruiter"])

    response = client.post(reverse("jobs:people_add", args=[world["job"].pk]), {"candidate_id": world["bystander"].pk})

    assert response.status_code == 302
    assert not Application.objects.filter(candidate=world["bystander"]).exists()


@pytest.mark.parametrize(("role", "status"), [("hiring_manager", 403), ("interviewer", 403), ("outsider", 404)])
def test_only_admins_and_recruiters_add_people(client, world, role, status):
    client.force_login(world[role])

    add = client.post(reverse("jobs:people_add", args=[world["job"].pk]), {"candidate_id": world["bystander"].pk})
    search = client.get(reverse("jobs:people", args=[world["job"].pk]), {"q": "alan"})

    assert (add.status_code, search.status_code) == (status, status)
    assert not Application.objects.filter(candidate=world["bystander"]).exists()


# --- Stage settings for one job ----------------------------------------------------------------------------------


def test_the_stage_settings_page_lists_the_stages_with_their_counts(client, world):
    client.force_login(world["recruiter"])

    html = client.get(reverse("jobs:stages", args=[world["job"].pk])).content.decode()

    assert "Screening" in html
    assert "1 person" in html


def test_renaming_a_stage(client, world):
    stage = world["job"].stages.get(name="Screening")
    client.force_login(world["recruiter"])

    response = client.post(
        reverse("jobs:stage_rename", args=[world["job"].pk, stage.pk]), {f"s{stage.pk}-name": "Phone screen"}
    )

    stage.refresh_from_db()
    assert response.status_code == 302
    assert stage.name == "Phone screen"


def test_an_empty_stage_name_is_refused_next_to_the_field(client, world):
    stage = world["job"].stages.get(name="Screening")
    client.force_login(world["recruiter"])

    response = client.post(reverse("jobs:stage_rename", args=[world["job"].pk, stage.pk]), {f"s{stage.pk}-name": "  "})

    stage.refresh_from_db()
    assert "A stage name has 1 to 60 characters." in response.content.decode()
    assert stage.name == "Screening"


def test_moving_a_stage_up_and_down_reorders_the_board(client, world):
    job = world["job"]
    screening = job.stages.get(name="Screening")
    client.force_login(world["recruiter"])

    client.post(reverse("jobs:stage_move", args=[job.pk, screening.pk]), {"direction": "up"})
    after_up = [s.name for s in job.stages.order_by("position")]
    client.post(reverse("jobs:stage_move", args=[job.pk, screening.pk]), {"direction": "down"})
    after_down = [s.name for s in job.stages.order_by("position")]

    assert after_up[:3] == ["Sourced", "Screening", "Applied"]
    assert after_down[:3] == ["Sourced", "Applied", "Screening"]


def test_the_first_stage_cannot_move_up(client, world):
    job = world["job"]
    first = job.stages.order_by("position").first()
    client.force_login(world["recruiter"])

    response = client.post(reverse("jobs:stage_move", args=[job.pk, first.pk]), {"direction": "up"})

    assert "cannot move further" in response.content.decode()
    assert job.stages.order_by("position").first() == first


def test_adding_a_stage_puts_it_last(client, world):
    job = world["job"]
    client.force_login(world["recruiter"])

    client.post(reverse("jobs:stage_add", args=[job.pk]), {"name": "Reference check", "category": "offer"})

    assert job.stages.order_by("position").last().name == "Reference check"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "category": "offer"}, "A stage name has 1 to 60 characters."),
        ({"name": "Later", "category": "later"}, "Choose one of the categories."),
    ],
)
def test_bad_new_stages_are_refused(client, world, data, message):
    client.force_login(world["recruiter"])

    response = client.post(reverse("jobs:stage_add", args=[world["job"].pk]), data)

    assert message in response.content.decode()
    assert world["job"].stages.count() == 6


def test_an_empty_stage_can_be_deleted_but_one_with_people_cannot(client, world):
    job = world["job"]
    sourced = job.stages.order_by("position").first()
    offer = job.stages.get(name="Offer")
    client.force_login(world["recruiter"])

    refused = client.post(reverse("jobs:stage_delete", args=[job.pk, sourced.pk]))
    client.post(reverse("jobs:stage_delete", args=[job.pk, offer.pk]))

    assert "Move the applications out of this stage before deleting it." in refused.content.decode()
    assert Stage.objects.filter(pk=sourced.pk).exists()
    assert not Stage.objects.filter(pk=offer.pk).exists()


@pytest.mark.parametrize(("role", "status"), [("hiring_manager", 403), ("interviewer", 403), ("outsider", 404)])
def test_only_admins_and_recruiters_change_a_jobs_stages(client, world, role, status):
    job = world["job"]
    stage = job.stages.get(name="Offer")
    client.force_login(world[role])

    responses = [
        client.get(reverse("jobs:stages", args=[job.pk])),
        client.post(reverse("jobs:stage_add", args=[job.pk]), {"name": "X", "category": "offer"}),
        client.post(reverse("jobs:stage_rename", args=[job.pk, stage.pk]), {f"s{stage.pk}-name": "Y"}),
        client.post(reverse("jobs:stage_delete", args=[job.pk, stage.pk])),
    ]

    assert {r.status_code for r in responses} == {status}
    assert sorted(s.name for s in job.stages.all()) == sorted(
        ["Sourced", "Applied", "Screening", "Interview", "Offer", "Hired"]
    )


# --- Admin settings -----------------------------------------------------------------------------------------------


SETTINGS_PAGES = ["jobs:settings_reasons", "jobs:settings_fields", "jobs:settings_stages"]


@pytest.mark.parametrize("page", SETTINGS_PAGES)
@pytest.mark.parametrize("role", ["recruiter", "hiring_manager", "interviewer", "outsider"])
def test_settings_are_for_admins_only(client, world, page, role):
    client.force_login(world[role])

    assert client.get(reverse(page)).status_code == 403
    assert client.post(reverse(page), {"name": "Sneaky", "label": "Sneaky", "field_type": "text"}).status_code == 403


@pytest.mark.parametrize("page", SETTINGS_PAGES)
def test_an_admin_opens_every_settings_page(client, admin_user, page):
    client.force_login(admin_user)

    assert client.get(reverse(page)).status_code == 200


def test_settings_index_goes_to_the_rejection_reasons(client, admin_user):
    client.force_login(admin_user)

    assert client.get(reverse("jobs:settings"))["Location"] == reverse("jobs:settings_reasons")


def test_an_admin_adds_and_retires_rejection_reasons(client, admin_user):
    client.force_login(admin_user)

    client.post(reverse("jobs:settings_reasons"), {"name": "Visa sponsorship needed"})
    reason = RejectionReason.objects.get(name="Visa sponsorship needed")
    client.post(reverse("jobs:settings_reason_deactivate", args=[reason.pk]))
    reason.refresh_from_db()
    retired = reason.is_active
    client.post(reverse("jobs:settings_reason_activate", args=[reason.pk]))
    reason.refresh_from_db()

    assert retired is False
    assert reason.is_active is True


@pytest.mark.parametrize(
    ("name", "message"), [("", "A reason has 1 to 100 characters."), ("Did not respond", "This reason already exists.")]
)
def test_bad_rejection_reasons_are_refused(client, admin_user, name, message):
    rejection_reasons_ensure()
    before = RejectionReason.objects.count()
    client.force_login(admin_user)

    response = client.post(reverse("jobs:settings_reasons"), {"name": name})

    assert message in response.content.decode()
    assert RejectionReason.objects.count() == before


def test_retiring_an_unknown_reason_is_a_404(client, admin_user):
    client.force_login(admin_user)

    assert client.post(reverse("jobs:settings_reason_deactivate", args=[999999])).status_code == 404


def test_an_admin_adds_a_choice_custom_field_and_reorders_fields(client, admin_user):
    client.force_login(admin_user)

    client.post(
        reverse("jobs:settings_fields"),
        {"label": "Notice period", "field_type": "number", "key": "", "choices": ""},
    )
    client.post(
        reverse("jobs:settings_fields"),
        {"label": "Clearance", "field_type": "choice", "key": "clearance", "choices": "None\nSC\nDV\n"},
    )
    clearance = CustomFieldDefinition.objects.get(key="clearance")
    client.post(reverse("jobs:settings_field_move", args=[clearance.pk]), {"direction": "up"})

    assert CustomFieldDefinition.objects.get(key="notice_period").field_type == "number"
    assert clearance.choices == ["None", "SC", "DV"]
    assert list(CustomFieldDefinition.objects.order_by("position").values_list("key", flat=True)) == [
        "clearance",
        "notice_period",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"label": "Clearance", "field_type": "choice", "key": "", "choices": ""}, "needs at least one choice"),
        ({"label": "", "field_type": "text", "key": "", "choices": ""}, "A label has 1 to 100 characters."),
        ({"label": "Age", "field_type": "colour", "key": "", "choices": ""}, "Select a valid choice"),
        ({"label": "Bad key", "field_type": "text", "key": "Bad Key!", "choices": ""}, "lower-case letters"),
        ({"label": "Notes", "field_type": "text", "key": "", "choices": "a\nb"}, "Only a choice field has choices."),
    ],
)
def test_bad_custom_fields_are_refused_next_to_the_field(client, admin_user, data, message):
    client.force_login(admin_user)

    response = client.post(reverse("jobs:settings_fields"), data)

    assert message in response.content.decode()
    assert not CustomFieldDefinition.objects.exists()


def test_a_custom_field_key_cannot_be_used_twice(client, admin_user):
    client.force_login(admin_user)
    client.post(reverse("jobs:settings_fields"), {"label": "Notice period", "field_type": "number"})

    response = client.post(reverse("jobs:settings_fields"), {"label": "Notice period", "field_type": "text"})

    assert "already exists" in response.content.decode()
    assert CustomFieldDefinition.objects.count() == 1


def test_an_admin_edits_the_stage_template_and_new_jobs_follow_it(client, admin_user, recruiter):
    client.force_login(admin_user)
    client.get(reverse("jobs:settings_stages"))
    screening = StageTemplate.objects.get(name="Screening")
    offer = StageTemplate.objects.get(name="Offer")

    client.post(reverse("jobs:settings_stage_rename", args=[screening.pk]), {f"t{screening.pk}-name": "Phone screen"})
    client.post(reverse("jobs:settings_stage_move", args=[screening.pk]), {"direction": "up"})
    client.post(reverse("jobs:settings_stages"), {"name": "Assessment", "category": "interview"})
    client.post(reverse("jobs:settings_stage_delete", args=[offer.pk]))
    job = make_job(actor=recruiter, title="Follows the template")

    assert [s.name for s in job.stages.order_by("position")] == [
        "Sourced",
        "Phone screen",
        "Applied",
        "Interview",
        "Hired",
        "Assessment",
    ]


def test_bad_stage_template_changes_are_refused(client, admin_user):
    client.force_login(admin_user)
    client.get(reverse("jobs:settings_stages"))
    first = StageTemplate.objects.order_by("position").first()

    rename = client.post(reverse("jobs:settings_stage_rename", args=[first.pk]), {f"t{first.pk}-name": ""})
    add = client.post(reverse("jobs:settings_stages"), {"name": "X", "category": "nope"})
    move = client.post(reverse("jobs:settings_stage_move", args=[first.pk]), {"direction": "sideways"})

    assert "A stage name has 1 to 60 characters." in rename.content.decode()
    assert "Choose one of the categories." in add.content.decode()
    assert "cannot move further" in move.content.decode()
    assert StageTemplate.objects.count() == 6
    first.refresh_from_db()
    assert first.name == "Sourced"


def test_the_last_template_stage_cannot_be_deleted(client, admin_user):
    client.force_login(admin_user)
    client.get(reverse("jobs:settings_stages"))
    keep = StageTemplate.objects.order_by("position").first()
    StageTemplate.objects.exclude(pk=keep.pk).delete()

    response = client.post(reverse("jobs:settings_stage_delete", args=[keep.pk]))

    assert "The template needs at least one stage." in response.content.decode()
    assert StageTemplate.objects.filter(pk=keep.pk).exists()


# --- Default message per stage ------------------------------------------------------------------------------------


def _template(recruiter, name="Interview invite"):
    from rapport.messaging.services import message_template_create

    return message_template_create(
        actor=recruiter,
        data={"name": name, "channel": "email", "category": "interview", "subject": "Hi", "body": "Hello"},
    )


def test_a_stage_gets_a_default_message_and_the_change_is_audited(client, world):
    from rapport.timeline.models import AuditEntry

    template = _template(world["recruiter"])
    stage = world["job"].stages.get(name="Interview")
    client.force_login(world["recruiter"])

    page = client.get(reverse("jobs:stages", args=[world["job"].pk])).content.decode()
    response = client.post(reverse("jobs:stage_template", args=[world["job"].pk, stage.pk]), {"template": template.pk})

    stage.refresh_from_db()
    assert f'<option value="{template.pk}"' in page
    assert response.status_code == 302 and stage.default_template == template
    entry = AuditEntry.objects.get(object_type="stage", object_id=stage.pk)
    assert entry.changes == {"default_template": [None, "Interview invite"]}
    client.post(reverse("jobs:stage_template", args=[world["job"].pk, stage.pk]), {"template": ""})
    stage.refresh_from_db()
    assert stage.default_template is None


def test_an_unknown_template_is_refused_with_a_message_and_nothing_changes(client, world):
    stage = world["job"].stages.get(name="Interview")
    client.force_login(world["recruiter"])

    response = client.post(reverse("jobs:stage_template", args=[world["job"].pk, stage.pk]), {"template": "999999"})

    stage.refresh_from_db()
    assert response.status_code == 200
    assert "Interview: pick a message template from the list." in response.content.decode()
    assert stage.default_template is None


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer", "outsider"])
def test_only_people_who_manage_jobs_set_a_stage_default_message(client, world, role):
    template = _template(world["recruiter"])
    stage = world["job"].stages.get(name="Interview")
    client.force_login(world[role])

    response = client.post(reverse("jobs:stage_template", args=[world["job"].pk, stage.pk]), {"template": template.pk})

    stage.refresh_from_db()
    assert response.status_code in (403, 404)
    assert stage.default_template is None
