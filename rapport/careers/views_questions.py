"""Recruiter workspace pages for a job's screening questions: list, add, edit, reorder and remove.

Who may change them follows the job's stages: admins and recruiters (`MANAGE_JOBS`); others in scope get 403 and
anyone else 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.accounts.permissions import Capability, ensure
from rapport.careers.forms import JobQuestionForm
from rapport.careers.models import JobQuestion
from rapport.careers.selectors import job_question_get_for_user, job_questions
from rapport.careers.services import job_question_create, job_question_delete, job_question_move, job_question_update
from rapport.common.errors import ValidationFailed
from rapport.common.web import add_service_errors, scoped
from rapport.jobs.models import Job
from rapport.jobs.selectors import job_get_for_user


def _job(request: HttpRequest, job_id: int) -> Job:
    job = job_get_for_user(user=request.user, job_id=job_id)
    ensure(request.user, Capability.MANAGE_JOBS)
    return job


def _question(request: HttpRequest, job_id: int, question_id: int) -> JobQuestion:
    question = job_question_get_for_user(user=request.user, job_id=job_id, question_id=question_id)
    ensure(request.user, Capability.MANAGE_JOBS)
    return question


def _render_list(
    request: HttpRequest, job: Job, *, add_form: JobQuestionForm | None = None, error: str = "", status: int = 200
) -> HttpResponse:
    questions = list(job_questions(job=job).annotate(answer_count=Count("answers")))
    context = {
        "job": job,
        "questions": questions,
        "add_form": add_form or JobQuestionForm(auto_id="id_new_%s"),
        "error": error,
    }
    return render(request, "careers/questions.html", context, status=status)


@login_required
@require_GET
@scoped
def question_list(request: HttpRequest, job_id: int) -> HttpResponse:
    return _render_list(request, _job(request, job_id))


@login_required
@require_POST
@scoped
def question_add(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    form = JobQuestionForm(request.POST, auto_id="id_new_%s")
    if form.is_valid():
        try:
            job_question_create(actor=request.user, job=job, data=form.cleaned_data)
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Added the question. The apply form asks it from now on.")
            return redirect("questions:list", job_id=job.pk)
    return _render_list(request, job, add_form=form, status=422)


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def question_edit(request: HttpRequest, job_id: int, question_id: int) -> HttpResponse:
    question = _question(request, job_id, question_id)
    if request.method == "GET":
        form = JobQuestionForm.for_question(question)
    else:
        form = JobQuestionForm(request.POST)
        if form.is_valid():
            try:
                job_question_update(actor=request.user, question=question, data=form.cleaned_data)
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Saved the question.")
                return redirect("questions:list", job_id=question.job_id)
    answer_count = question.answers.count()
    status = 422 if form.errors else 200
    context = {"job": question.job, "question": question, "form": form, "answer_count": answer_count}
    return render(request, "careers/question_edit.html", context, status=status)


@login_required
@require_POST
@scoped
def question_move(request: HttpRequest, job_id: int, question_id: int) -> HttpResponse:
    question = _question(request, job_id, question_id)
    try:
        job_question_move(actor=request.user, question=question, direction=request.POST.get("direction", ""))
    except ValidationFailed as exc:
        return _render_list(request, question.job, error=exc.message, status=422)
    return redirect("questions:list", job_id=question.job_id)


@login_required
@require_POST
@scoped
def question_delete(request: HttpRequest, job_id: int, question_id: int) -> HttpResponse:
    question = _question(request, job_id, question_id)
    text = question.text
    job_question_delete(actor=request.user, question=question)
    messages.success(request, f"Removed “{text}”. Answers already given stay on their applications.")
    return redirect("questions:list", job_id=job_id)
