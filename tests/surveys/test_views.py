"""Survey pages: the public answer page (from the real email, once, rate-limited), results, send and edit pages,
and the results API, with a permission test for every role."""

import pytest
from django.test import Client

from rapport.messaging.services import outbox_deliver_due
from rapport.surveys.links import survey_token
from rapport.surveys.models import SurveyInvitation, SurveyResponse
from rapport.surveys.services import survey_answer, survey_send
from rapport.surveys.views import ANSWERS_PER_WINDOW
from rapport.timeline.models import Activity
from tests.conftest import PASSWORD
from tests.surveys.conftest import answers_for, link_path_from

ROLES = ("admin", "recruiter", "hiring_manager", "interviewer", "outsider")
FULL = {"admin", "recruiter"}


def signed_in(user) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


def test_the_emailed_link_opens_the_survey_and_takes_one_answer(
    world, survey, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        survey_send(survey=survey, candidate=world["applicant"], application=world["application"])
    outbox_deliver_due()
    [mail] = smtp_server.messages
    assert mail["To"] == "grace@example.org"
    path = link_path_from(mail.get_body(preferencelist=("plain",)).get_content())
    client = Client()

    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "How was your interview?" in html and 'name="viewport"' in html and "noindex" in html
    assert page["Cache-Control"].startswith("max-age=0")

    incomplete = client.post(path, {})
    assert incomplete.status_code == 422
    assert "Please answer this question." in incomplete.content.decode()

    done = client.post(path, answers_for(survey, csat=4, text="Friendly"))
    assert done.status_code == 200 and "Thank you for your answers" in done.content.decode()
    again = client.post(path, answers_for(survey, csat=1))
    assert "already answered" in again.content.decode()
    assert SurveyResponse.objects.get().answers.get(question__kind="csat").score == 4
    assert Activity.objects.filter(type="survey.answered").count() == 1


def test_a_forged_link_is_not_found(world, survey):
    invitation = survey_send(survey=survey, candidate=world["applicant"])
    token = survey_token(invitation.pk)
    response = Client().get(f"/surveys/answer/{token}x/")
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()


def test_answering_is_rate_limited_per_address(world, survey):
    invitation = survey_send(survey=survey, candidate=world["applicant"])
    path = f"/surveys/answer/{survey_token(invitation.pk)}/"
    client = Client()
    for _ in range(ANSWERS_PER_WINDOW):
        assert client.post(path, {}).status_code == 422
    limited = client.post(path, answers_for(survey))
    assert limited.status_code == 429 and limited["Retry-After"]
    assert not SurveyResponse.objects.exists()


def test_the_results_page_draws_charts_with_text_alternatives(world, survey):
    invitation = survey_send(survey=survey, candidate=world["applicant"], application=world["application"])
    survey_answer(invitation=invitation, answers=answers_for(survey, csat=4, nps=10, text="Kind <b>people</b>"))

    response = signed_in(world["recruiter"]).get(f"/surveys/{survey.pk}/", {"job": world["job"].pk})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<svg class="chart" role="img"') == 3  # csat, nps, choice; text has no chart
    assert "<desc" in html and "4: 1" in html
    assert "data-nps>100<" in html and "data-csat-average>4.00<" in html
    assert "Kind &lt;b&gt;people&lt;/b&gt;" in html
    empty = signed_in(world["recruiter"]).get(f"/surveys/{survey.pk}/", {"stage": "Nowhere"})
    assert "No answers yet" in empty.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_survey_pages_are_for_admins_and_recruiters(world, survey, role):
    client = signed_in(world[role])
    expected = 200 if role in FULL else 403
    for url in ("/surveys/", f"/surveys/{survey.pk}/", f"/surveys/{survey.pk}/edit/", "/surveys/new/"):
        assert client.get(url).status_code == expected, url


def test_signed_out_visitors_go_to_sign_in(survey):
    response = Client().get("/surveys/")
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_creating_a_survey_from_question_lines(world):
    client = signed_in(world["recruiter"])
    bad = client.post(
        "/surveys/new/",
        {"name": "Pulse", "moment": "after_applying", "cooldown_days": 90, "questions": "rating: How was it?"},
    )
    assert bad.status_code == 422
    assert "Line 1: start with csat:, nps:, text: or choice:." in bad.content.decode()

    good = client.post(
        "/surveys/new/",
        {
            "name": "Pulse",
            "moment": "after_applying",
            "cooldown_days": 60,
            "is_active": "on",
            "questions": "csat: How easy was applying?\nchoice?: Device | Phone | Computer\ntext?: Tell us more",
        },
    )
    assert good.status_code == 302
    from rapport.surveys.models import Survey

    survey = Survey.objects.get(name="Pulse")
    kinds = [(q.kind, q.required, q.choices) for q in survey.questions.all()]
    assert kinds == [("csat", True, []), ("choice", False, ["Phone", "Computer"]), ("text", False, [])]
    assert survey.cooldown_days == 60


def test_send_survey_from_a_profile_respects_the_cool_down(world, survey):
    client = signed_in(world["recruiter"])
    grace = world["applicant"]
    url = f"/surveys/send/?candidate={grace.pk}&application={world['application'].pk}"

    page = client.get(url)
    assert page.status_code == 200 and "Send survey" in page.content.decode()
    sent = client.post(url, {"survey": survey.pk, "application": world["application"].pk}, follow=True)
    assert "sent to Grace Hopper" in sent.content.decode()
    invitation = SurveyInvitation.objects.get(candidate=grace)
    assert invitation.application == world["application"] and invitation.sent_by == world["recruiter"]

    again = client.post(url, {"survey": survey.pk}, follow=True)
    assert "No survey sent to Grace Hopper: they got a survey on" in again.content.decode()
    assert SurveyInvitation.objects.filter(candidate=grace).count() == 1
    assert "Send survey" in client.get(f"/candidates/{grace.pk}/").content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_send_survey_page_by_role(world, survey, role):
    response = signed_in(world[role]).get(f"/surveys/send/?candidate={world['applicant'].pk}")
    assert response.status_code == (200 if role in FULL else 403)


def test_send_survey_for_someone_out_of_scope_is_not_found(world, survey):
    response = signed_in(world["recruiter"]).get("/surveys/send/?candidate=999999")
    assert response.status_code == 404


# --- API ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_survey_list_api_by_role(world, survey, api_as, role):
    response = api_as(world[role]).get("/surveys")
    assert response.status_code == 200
    names = {item["name"] for item in response.json()["items"]}
    if role in FULL:
        assert {"Interview experience", "Candidate experience", "Recommendation after a decision"} <= names
    else:
        assert names == set()


@pytest.mark.parametrize("role", ROLES)
def test_the_results_api_by_role(world, survey, api_as, role):
    invitation = survey_send(survey=survey, candidate=world["applicant"], application=world["application"])
    survey_answer(invitation=invitation, answers=answers_for(survey, csat=5, nps=6))

    response = api_as(world[role]).get(f"/surveys/{survey.pk}/results", {"job_id": str(world["job"].pk)})

    if role not in FULL:
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        return
    assert response.status_code == 200
    body = response.json()
    assert body["responses"] == 1 and body["job_id"] == str(world["job"].pk)
    csat, nps, choice, text = body["questions"]
    assert csat["average"] == 5.0 and {"value": "5", "count": 1} in csat["distribution"]
    assert nps["nps"] == -100 and nps["detractors"] == 1
    assert choice["distribution"] == [{"value": "Website", "count": 1}, {"value": "Friend", "count": 0}]
    assert text["distribution"] == [] and text["average"] is None


def test_the_survey_api_needs_a_token_and_a_valid_id(world, survey, api_as):
    from tests.api.conftest import ApiClient

    assert ApiClient().get("/surveys").status_code == 401
    assert api_as(world["admin"]).get("/surveys/abc/results").status_code == 404
    assert api_as(world["admin"]).get("/surveys/999999/results").status_code == 404
    bad_filter = api_as(world["admin"]).get(f"/surveys/{survey.pk}/results", {"job_id": "x"})
    assert bad_filter.status_code == 422
