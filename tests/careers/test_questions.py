"""Screening questions in the team's workspace: the services, the scoped selectors and the pages, for every role."""

import pytest
from django.test import Client
from django.urls import reverse

from rapport.careers.models import JobQuestion, ScreeningAnswer
from rapport.careers.selectors import job_question_get_for_user, screening_answers_for_user
from rapport.careers.services import (
    application_submit,
    job_question_create,
    job_question_delete,
    job_question_move,
    job_question_update,
    question_field,
)
from rapport.common.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.pipeline.services import application_create
from rapport.timeline.models import AuditEntry
from tests.careers.conftest import pdf_upload
from tests.factories import make_job

pytestmark = pytest.mark.django_db

EU = {"text": "Can you work in the EU?", "kind": "yes_no", "required": True, "knockout_answer": "No"}
LEVEL = {"text": "Your level?", "kind": "choice", "choices": " Junior \nSenior\n\nsenior\nStaff", "knockout_answer": ""}

# Who may set up a job's questions: the job's stages are MANAGE_JOBS, so hiring managers may not either.
ROLE_STATUS = [("admin", 200), ("recruiter", 200), ("hiring_manager", 403), ("interviewer", 403), ("outsider", 404)]


def answer(application, question, text, *, knocked_out=False):
    return ScreeningAnswer.objects.create(
        application=application, question=question, question_text=question.text, answer=text, knocked_out=knocked_out
    )


# --- services --------------------------------------------------------------------------------------------------------


class TestCreate:
    def test_questions_are_added_at_the_end_with_clean_values(self, recruiter, open_job):
        eu = job_question_create(actor=recruiter, job=open_job, data=EU)
        level = job_question_create(actor=recruiter, job=open_job, data={**LEVEL, "knockout_answer": "JUNIOR"})

        assert (eu.position, level.position) == (0, 1)
        assert (eu.kind, eu.required, eu.knockout_answer, eu.choices) == ("yes_no", True, "no", [])
        # Trimmed, blank lines dropped, a repeat (in any case) kept once; the knock-out takes the option's case.
        assert level.choices == ["Junior", "Senior", "Staff"]
        assert level.knockout_answer == "Junior"
        assert AuditEntry.objects.filter(object_type="job_question", action="create").count() == 2

    def test_every_mistake_is_named_by_its_field_and_nothing_is_written(self, recruiter, open_job):
        with pytest.raises(ValidationFailed) as caught:
            job_question_create(actor=recruiter, job=open_job, data={"text": "  ", "kind": "essay"})
        assert set(caught.value.fields) == {"text", "kind"}

        with pytest.raises(ValidationFailed) as caught:
            job_question_create(
                actor=recruiter, job=open_job, data={"text": "Level?", "kind": "choice", "choices": "Only one"}
            )
        assert "at least two choices" in caught.value.fields["choices"][0]

        with pytest.raises(ValidationFailed) as caught:
            job_question_create(actor=recruiter, job=open_job, data={**LEVEL, "knockout_answer": "Principal"})
        assert caught.value.fields == {"knockout_answer": ["The knock-out answer must be one of the choices."]}

        with pytest.raises(ValidationFailed) as caught:
            job_question_create(actor=recruiter, job=open_job, data={**EU, "knockout_answer": "maybe"})
        assert list(caught.value.fields) == ["knockout_answer"]

        with pytest.raises(ValidationFailed) as caught:
            job_question_create(
                actor=recruiter, job=open_job, data={"text": "Why us?", "kind": "text", "knockout_answer": "money"}
            )
        assert list(caught.value.fields) == ["knockout_answer"]

        with pytest.raises(ValidationFailed) as caught:
            job_question_create(actor=recruiter, job=open_job, data={**EU, "text": "x" * 301})
        assert list(caught.value.fields) == ["text"]
        assert not JobQuestion.objects.exists()
        assert not AuditEntry.objects.filter(object_type="job_question").exists()

    def test_a_choice_question_keeps_no_choices_when_it_becomes_yes_no(self, recruiter, open_job):
        question = job_question_create(actor=recruiter, job=open_job, data=LEVEL)

        job_question_update(actor=recruiter, question=question, data={**LEVEL, "kind": "yes_no"})

        question.refresh_from_db()
        assert (question.kind, question.choices, question.options) == ("yes_no", [], ["yes", "no"])

    @pytest.mark.parametrize("role", ["hiring_manager", "interviewer"])
    def test_other_roles_may_not_set_up_questions(self, world, role):
        with pytest.raises(PermissionDenied):
            job_question_create(actor=world[role], job=world["job"], data=EU)
        assert not JobQuestion.objects.exists()


class TestUpdateDeleteMove:
    def test_an_edit_changes_the_form_but_not_the_answers_already_given(self, world):
        question = job_question_create(actor=world["recruiter"], job=world["job"], data=EU)
        answer(world["application"], question, "no", knocked_out=True)

        job_question_update(
            actor=world["admin"],
            question=question,
            data={**EU, "text": "May you work in the EU?", "knockout_answer": ""},
        )

        question.refresh_from_db()
        assert (question.text, question.knockout_answer) == ("May you work in the EU?", "")
        kept = ScreeningAnswer.objects.get()
        assert (kept.question_text, kept.knocked_out) == ("Can you work in the EU?", True)
        entry = AuditEntry.objects.get(object_type="job_question", action="update")
        assert entry.changes["text"] == ["Can you work in the EU?", "May you work in the EU?"]

    def test_removing_a_question_keeps_its_answers_with_the_wording(self, world):
        question = job_question_create(actor=world["recruiter"], job=world["job"], data=EU)
        answer(world["application"], question, "no", knocked_out=True)

        job_question_delete(actor=world["recruiter"], question=question)

        assert not JobQuestion.objects.exists()
        kept = ScreeningAnswer.objects.get()
        assert (kept.question_id, kept.question_text, kept.answer, kept.knocked_out) == (
            None,
            "Can you work in the EU?",
            "no",
            True,
        )
        assert AuditEntry.objects.filter(object_type="job_question", action="delete").exists()

    def test_moving_swaps_with_the_neighbour_and_stops_at_the_ends(self, recruiter, open_job):
        first = job_question_create(actor=recruiter, job=open_job, data=EU)
        second = job_question_create(actor=recruiter, job=open_job, data=LEVEL)
        third = job_question_create(actor=recruiter, job=open_job, data={"text": "Why us?", "kind": "text"})

        job_question_move(actor=recruiter, question=third, direction="up")
        assert list(JobQuestion.objects.filter(job=open_job)) == [first, third, second]

        job_question_move(actor=recruiter, question=first, direction="down")
        assert list(JobQuestion.objects.filter(job=open_job)) == [third, first, second]

        with pytest.raises(ValidationFailed):
            job_question_move(actor=recruiter, question=third, direction="up")
        with pytest.raises(ValidationFailed):
            job_question_move(actor=recruiter, question=second, direction="sideways")
        assert list(JobQuestion.objects.filter(job=open_job)) == [third, first, second]

    def test_the_apply_form_asks_in_the_new_order_and_flags_the_knock_out(self, recruiter, open_job):
        eu = job_question_create(actor=recruiter, job=open_job, data=EU)
        level = job_question_create(actor=recruiter, job=open_job, data={**LEVEL, "knockout_answer": "Junior"})
        job_question_move(actor=recruiter, question=level, direction="up")

        outcome = application_submit(
            job=open_job,
            data={"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org"},
            resume=pdf_upload(),
            consent=True,
            answers={question_field(eu): "yes", question_field(level): "Junior"},
        )

        rows = list(outcome.application.screening_answers.order_by("id"))
        assert [(r.question_text, r.answer, r.knocked_out) for r in rows] == [
            ("Your level?", "Junior", True),
            ("Can you work in the EU?", "yes", False),
        ]


# --- selectors -------------------------------------------------------------------------------------------------------


class TestSelectors:
    def test_a_question_is_found_only_through_its_own_job_in_scope(self, world):
        question = job_question_create(actor=world["recruiter"], job=world["job"], data=EU)
        other = make_job(actor=world["recruiter"], title="Other job")

        found = job_question_get_for_user(user=world["hiring_manager"], job_id=world["job"].pk, question_id=question.pk)
        assert found == question
        with pytest.raises(NotFound):
            job_question_get_for_user(user=world["recruiter"], job_id=other.pk, question_id=question.pk)
        with pytest.raises(NotFound):
            job_question_get_for_user(user=world["outsider"], job_id=world["job"].pk, question_id=question.pk)
        with pytest.raises(NotFound):
            job_question_get_for_user(user=world["recruiter"], job_id=world["job"].pk, question_id="nope")

    def test_answers_are_given_only_for_applications_the_user_can_see(self, world):
        question = job_question_create(actor=world["recruiter"], job=world["job"], data=EU)
        other_job = make_job(actor=world["recruiter"], title="Data Engineer")
        other_question = job_question_create(actor=world["recruiter"], job=other_job, data=EU)
        elsewhere = application_create(actor=world["recruiter"], candidate=world["applicant"], job=other_job)
        answer(world["application"], question, "yes")
        answer(elsewhere, other_question, "no", knocked_out=True)
        ids = [world["application"].pk, elsewhere.pk]

        assert set(screening_answers_for_user(user=world["recruiter"], application_ids=ids)) == set(ids)
        assert set(screening_answers_for_user(user=world["hiring_manager"], application_ids=ids)) == {ids[0]}
        assert set(screening_answers_for_user(user=world["interviewer"], application_ids=ids)) == {ids[0]}
        assert screening_answers_for_user(user=world["outsider"], application_ids=ids) == {}


# --- pages -----------------------------------------------------------------------------------------------------------


@pytest.fixture
def client():
    return Client()


def questions_url(job):
    return reverse("questions:list", args=[job.pk])


class TestPagesByRole:
    @pytest.mark.parametrize(("role", "status"), ROLE_STATUS)
    def test_the_page(self, client, world, role, status):
        client.force_login(world[role])
        assert client.get(questions_url(world["job"])).status_code == status

    @pytest.mark.parametrize(("role", "status"), ROLE_STATUS)
    def test_adding(self, client, world, role, status):
        client.force_login(world[role])

        response = client.post(reverse("questions:add", args=[world["job"].pk]), EU)

        assert response.status_code == (302 if status == 200 else status)
        assert JobQuestion.objects.filter(job=world["job"]).exists() == (status == 200)

    @pytest.mark.parametrize(("role", "status"), ROLE_STATUS)
    def test_editing_moving_and_removing(self, client, world, role, status):
        job = world["job"]
        first = job_question_create(actor=world["recruiter"], job=job, data=EU)
        second = job_question_create(actor=world["recruiter"], job=job, data=LEVEL)
        client.force_login(world[role])
        allowed = status == 200

        page = client.get(reverse("questions:edit", args=[job.pk, first.pk]))
        edit = client.post(reverse("questions:edit", args=[job.pk, first.pk]), {**EU, "text": "Changed?"})
        move = client.post(reverse("questions:move", args=[job.pk, second.pk]), {"direction": "up"})
        delete = client.post(reverse("questions:delete", args=[job.pk, first.pk]))

        assert page.status_code == status
        assert [edit.status_code, move.status_code, delete.status_code] == [302 if allowed else status] * 3
        if allowed:
            assert list(JobQuestion.objects.values_list("text", flat=True)) == ["Your level?"]
        else:
            assert list(JobQuestion.objects.values_list("text", flat=True)) == [
                "Can you work in the EU?",
                "Your level?",
            ]

    @pytest.mark.parametrize(("role", "shown"), [("admin", True), ("recruiter", True), ("hiring_manager", False)])
    def test_the_job_page_links_to_the_questions_for_those_who_manage_them(self, client, world, role, shown):
        client.force_login(world[role])

        html = client.get(reverse("jobs:detail", args=[world["job"].pk])).content.decode()

        assert (questions_url(world["job"]) in html) == shown


class TestPages:
    def test_an_empty_job_explains_questions_and_knock_outs(self, client, world):
        client.force_login(world["recruiter"])

        html = client.get(questions_url(world["job"])).content.decode()

        assert "No screening questions yet" in html
        assert "knock-out answer" in html
        assert "nobody is rejected automatically" in html

    def test_the_list_shows_each_question_with_its_knock_out_and_answer_count(self, client, world):
        question = job_question_create(actor=world["recruiter"], job=world["job"], data=EU)
        answer(world["application"], question, "no", knocked_out=True)
        client.force_login(world["recruiter"])

        html = client.get(questions_url(world["job"])).content.decode()

        assert "No screening questions yet" not in html
        assert "Can you work in the EU?" in html
        assert 'class="badge badge--warning">no</span>' in html
        assert "The 1 answer already given stay on their applications." in html

    def test_a_bad_question_is_refused_next_to_the_named_field(self, client, world):
        client.force_login(world["recruiter"])

        response = client.post(
            reverse("questions:add", args=[world["job"].pk]),
            {"text": "Your level?", "kind": "choice", "choices": "Senior", "knockout_answer": "Junior"},
        )

        html = response.content.decode()
        assert response.status_code == 422
        assert 'id="field-choices"' in html and "Give at least two choices, one per line." in html
        assert "The knock-out answer must be one of the choices." in html
        # The typed values stay in the form, so fixing one line is enough.
        assert 'value="Your level?"' in html
        assert not JobQuestion.objects.exists()

    def test_a_missing_question_text_is_refused_by_the_form(self, client, world):
        client.force_login(world["recruiter"])

        response = client.post(reverse("questions:add", args=[world["job"].pk]), {"text": "", "kind": "yes_no"})

        assert response.status_code == 422
        assert "Write the question." in response.content.decode()

    def test_editing_shows_the_question_and_saves_the_change(self, client, world):
        question = job_question_create(actor=world["recruiter"], job=world["job"], data=LEVEL)
        client.force_login(world["admin"])
        url = reverse("questions:edit", args=[world["job"].pk, question.pk])

        page = client.get(url).content.decode()
        response = client.post(
            url, {**LEVEL, "choices": "Junior\nSenior", "knockout_answer": "junior", "required": "on"}
        )

        assert "Junior\nSenior\nStaff</textarea>" in page
        assert response.status_code == 302 and response["Location"] == questions_url(world["job"])
        question.refresh_from_db()
        assert (question.choices, question.knockout_answer, question.required) == (["Junior", "Senior"], "Junior", True)

    def test_a_question_of_another_job_is_not_found_through_this_one(self, client, world):
        other = make_job(actor=world["recruiter"], title="Other job")
        question = job_question_create(actor=world["recruiter"], job=other, data=EU)
        client.force_login(world["recruiter"])

        response = client.post(reverse("questions:delete", args=[world["job"].pk, question.pk]))

        assert response.status_code == 404
        assert JobQuestion.objects.filter(pk=question.pk).exists()

    def test_moving_the_first_question_up_says_it_cannot(self, client, world):
        question = job_question_create(actor=world["recruiter"], job=world["job"], data=EU)
        client.force_login(world["recruiter"])

        response = client.post(reverse("questions:move", args=[world["job"].pk, question.pk]), {"direction": "up"})

        assert response.status_code == 422
        assert "already the first" in response.content.decode()


class TestAnswersOnTheProfile:
    @pytest.mark.parametrize(
        ("role", "status"),
        [("admin", 200), ("recruiter", 200), ("hiring_manager", 200), ("interviewer", 200), ("outsider", 404)],
    )
    def test_those_who_see_the_application_see_its_answers_and_knock_outs(self, client, world, role, status):
        eu = job_question_create(actor=world["recruiter"], job=world["job"], data=EU)
        why = job_question_create(actor=world["recruiter"], job=world["job"], data={"text": "Why us?", "kind": "text"})
        answer(world["application"], eu, "no", knocked_out=True)
        answer(world["application"], why, "Your <b>mission</b>")
        job_question_delete(actor=world["recruiter"], question=why)
        client.force_login(world[role])

        response = client.get(reverse("candidates:detail", args=[world["applicant"].pk]))

        assert response.status_code == status
        if status == 200:
            html = response.content.decode()
            assert "Screening answers (2)" in html
            assert "Can you work in the EU?" in html and "Knock-out answer" in html
            # A removed question's answer still shows with its wording, and answers are escaped.
            assert "Why us?" in html and "Your &lt;b&gt;mission&lt;/b&gt;" in html

    def test_a_person_with_no_answers_shows_no_screening_section(self, client, world):
        client.force_login(world["recruiter"])

        html = client.get(reverse("candidates:detail", args=[world["applicant"].pk])).content.decode()

        assert "Screening answers" not in html
        assert "Knock-out answer" not in html


def test_the_profile_reads_the_answers_of_all_its_applications_in_one_query(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    other_job = make_job(actor=world["recruiter"], title="Data Engineer")
    applications = [world["application"]]
    for job in (other_job, make_job(actor=world["recruiter"], title="SRE")):
        applications.append(application_create(actor=world["recruiter"], candidate=world["applicant"], job=job))
    for application in applications:
        question = job_question_create(actor=world["recruiter"], job=application.job, data=EU)
        answer(application, question, "no", knocked_out=True)
    client.force_login(world["recruiter"])

    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("candidates:detail", args=[world["applicant"].pk])).content.decode()

    assert html.count("Screening answers (1)") == 3
    assert sum("careers_screeninganswer" in query["sql"] for query in queries.captured_queries) == 1
