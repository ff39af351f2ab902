"""CSV import pages: upload → map columns (with a live preview) → progress → report; plus export of everyone.

The uploaded file is staged (not yet a job) until the mapping is confirmed, so the worker never picks up a file
whose columns nobody has chosen. Rows are never processed in the request: a job is queued, and a thread started
once it is committed (or the embedded worker, whichever claims it first) runs it. The view waits briefly for
that thread, so a small file lands straight on its report.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.accounts.permissions import Capability, can, ensure
from rapport.candidates.exporting import export_candidates_csv
from rapport.candidates.importing import (
    DUPLICATE_CHOICES,
    ImportField,
    import_error_report_lines,
    import_job_create,
    import_preview,
    import_staged_discard,
    import_staged_file,
    import_upload_stage,
)
from rapport.candidates.models import ImportStatus
from rapport.candidates.selectors import candidates_visible_to, import_job_get_for_user, import_jobs_visible_to
from rapport.candidates.tasks import import_job_start_thread
from rapport.common.errors import ValidationFailed
from rapport.common.forms import StyledFormMixin
from rapport.common.web import add_service_errors, scoped

SESSION_KEY = "rapport_import_uploads"
RECENT_JOBS = 10
REPORT_ISSUES_SHOWN = 200
# How long the start view waits for a small import to finish before showing the progress page instead.
HEAD_START_SECONDS = 2.0
DUPLICATE_LABELS = {
    "skip": "Skip them: keep the existing person as they are",
    "merge": "Merge into the existing person: fill blank fields, add tags, skills, emails and phones",
}


class UploadForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label="CSV file",
        error_messages={"required": "Choose a CSV file to import."},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,text/csv"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = settings.RAPPORT_MAX_IMPORT_MB
        self.fields["file"].help_text = (
            f"Up to {limit} MB, from any spreadsheet, ATS or LinkedIn export. The first row names the columns; "
            "commas, semicolons and tabs all work."
        )
        self.fields["file"].widget.attrs["data-max-bytes"] = str(limit * 1024 * 1024)
        self.fields["file"].widget.attrs["data-max-message"] = f"The file is larger than {limit} MB; split it."


class MappingForm(StyledFormMixin, forms.Form):
    """One select per column of the file, plus what to do with people who already exist."""

    on_duplicate = forms.ChoiceField(
        label="When a person already exists (same email or phone)",
        choices=[(key, DUPLICATE_LABELS[key]) for key in DUPLICATE_CHOICES],
        initial="skip",
        widget=forms.RadioSelect,
    )

    def __init__(
        self, *args: Any, headers: list[str], fields: list[ImportField], initial_mapping: dict[str, str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "— Don't import —"), *((f.key, f.label) for f in fields)]
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header, choices=choices, required=False, initial=initial_mapping.get(str(index), "")
            )
        self.headers = headers
        self.style_widgets()

    def column_fields(self) -> list[forms.BoundField]:
        return [self[f"col_{index}"] for index in range(len(self.headers))]

    def mapping(self) -> dict[str, str]:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {str(index): data.get(f"col_{index}", "") or "" for index in range(len(self.headers))}

    def submitted_mapping(self) -> dict[str, str]:
        """The columns as chosen, even when the form is not valid (for the live preview)."""
        return {str(index): self.data.get(f"col_{index}", "") or "" for index in range(len(self.headers))}


def _staged(request: HttpRequest) -> dict[str, str]:
    return request.session.get(SESSION_KEY, {})


def _staged_file(request: HttpRequest, token: str) -> tuple[Any, str]:
    """The upload this user staged under `token` (another user's token is as good as none)."""
    name = _staged(request).get(token)
    if name is None:
        raise ValidationFailed.single("file", "The uploaded file has expired; upload it again.")
    return import_staged_file(token=token, name=name), name


def _forget(request: HttpRequest, token: str) -> None:
    staged = _staged(request)
    if staged.pop(token, None) is not None:
        request.session[SESSION_KEY] = staged
    import_staged_discard(token=token)


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def import_start(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.IMPORT)
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                token = import_upload_stage(actor=request.user, upload=upload)
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                staged = _staged(request)
                staged[token] = (upload.name or "upload.csv")[:255]
                request.session[SESSION_KEY] = staged
                return redirect("imports:map", token=token)
        status = 422
    context = {
        "form": form,
        "jobs": list(import_jobs_visible_to(request.user)[:RECENT_JOBS]),
        "can_export": can(request.user, Capability.EXPORT),
    }
    return render(request, "imports/start.html", context, status=status)


def _preview_columns(preview: dict[str, Any]) -> list[tuple[str, str]]:
    """The fields the preview table shows, in column order; a full name shows as the first and last name."""
    labels = {f.key: f.label for f in preview["fields"]}
    keys: list[str] = []
    for target in preview["mapping"].values():
        for key in ("first_name", "last_name") if target == "full_name" else (target,):
            if key and key not in keys:
                keys.append(key)
    return [(key, labels.get(key, key)) for key in keys]


def _first_values(rows: list[list[str]], index: int, limit: int = 3) -> list[str]:
    values = [row[index].strip() for row in rows if index < len(row) and row[index].strip()]
    return [value[:60] for value in values[:limit]]


def _mapping_context(token: str, name: str, form: MappingForm, preview: dict[str, Any]) -> dict[str, Any]:
    return {
        "token": token,
        "file_name": name,
        "form": form,
        "columns": [
            (bound, _first_values(preview["sample_rows"], index)) for index, bound in enumerate(form.column_fields())
        ],
        "preview": preview,
        "preview_columns": _preview_columns(preview),
        "total_rows": preview["total_rows"],
        "on_duplicate": form["on_duplicate"].value() or "skip",
    }


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def import_map(request: HttpRequest, token: str) -> HttpResponse:
    ensure(request.user, Capability.IMPORT)
    try:
        upload, name = _staged_file(request, token)
        first_look = import_preview(file=upload)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return redirect("imports:start")
    form = MappingForm(
        request.POST if request.method == "POST" else None,
        headers=first_look["headers"],
        fields=first_look["fields"],
        initial_mapping=first_look["suggested_mapping"],
    )
    preview = first_look
    status = 200
    if request.method == "POST":
        mapping = form.submitted_mapping()
        if form.is_valid():
            try:
                job = import_job_create(
                    actor=request.user,
                    upload=upload,
                    mapping=form.mapping(),
                    on_duplicate=form.cleaned_data["on_duplicate"],
                )
            except ValidationFailed as exc:
                add_service_errors(form, exc, field_map=_field_map(form))
            else:
                _forget(request, token)
                _start_in_background(job.pk)
                return redirect("imports:detail", job_id=job.pk)
        preview = import_preview(file=upload, mapping=mapping)
        status = 422
    return render(request, "imports/map.html", _mapping_context(token, name, form, preview), status=status)


def _field_map(form: MappingForm) -> dict[str, str]:
    return {f"mapping.{index}": f"col_{index}" for index in range(len(form.headers))}


@login_required
@require_POST
@scoped
def import_map_preview(request: HttpRequest, token: str) -> HttpResponse:
    """The preview table again, for the columns as currently chosen (HTMX, on every change of a select)."""
    ensure(request.user, Capability.IMPORT)
    try:
        upload, name = _staged_file(request, token)
        # One read of the file per change: the columns come straight from the posted selects.
        chosen = {key[4:]: value for key, value in request.POST.items() if key.startswith("col_") and key[4:].isdigit()}
        preview = import_preview(file=upload, mapping=chosen)
        form = MappingForm(
            request.POST,
            headers=preview["headers"],
            fields=preview["fields"],
            initial_mapping=preview["suggested_mapping"],
        )
    except ValidationFailed as exc:
        return render(request, "imports/_preview.html", {"error": exc.message}, status=200)
    return render(request, "imports/_preview.html", _mapping_context(token, name, form, preview))


@login_required
@require_POST
@scoped
def import_cancel(request: HttpRequest, token: str) -> HttpResponse:
    ensure(request.user, Capability.IMPORT)
    _forget(request, token)
    return redirect("imports:start")


def _start_in_background(job_id: int) -> None:
    """Run the job on a thread once it is committed, and give small files a moment to finish."""
    threads: list[Any] = []
    transaction.on_commit(lambda: threads.append(import_job_start_thread(job_id)))
    if threads and threads[0] is not None:
        threads[0].join(timeout=HEAD_START_SECONDS)


def _duration(job: Any) -> str:
    if job.finished_at is None:
        return ""
    seconds = max(0.0, (job.finished_at - job.created_at).total_seconds())
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s"


def _report_context(job: Any) -> dict[str, Any]:
    errors = [issue for issue in job.errors if issue.get("kind", "error") == "error"]
    skipped = [issue for issue in job.errors if issue.get("kind") == "skipped"]
    return {
        "job": job,
        "finished": job.status in (ImportStatus.DONE, ImportStatus.FAILED),
        "took": _duration(job),
        "errors_shown": errors[:REPORT_ISSUES_SHOWN],
        "skipped_shown": skipped[:REPORT_ISSUES_SHOWN],
        "errors_more": max(0, len(errors) - REPORT_ISSUES_SHOWN),
        "skipped_more": max(0, len(skipped) - REPORT_ISSUES_SHOWN),
        "issues_truncated": job.error_count + job.skipped_count > len(job.errors),
    }


@login_required
@require_GET
@scoped
def import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = import_job_get_for_user(user=request.user, job_id=job_id)
    return render(request, "imports/detail.html", _report_context(job))


@login_required
@require_GET
@scoped
def import_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The progress bar, polled every second; once the job has ended, the browser loads the report."""
    job = import_job_get_for_user(user=request.user, job_id=job_id)
    context = _report_context(job)
    if context["finished"] and request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("imports:detail", kwargs={"job_id": job.pk})
        return response
    return render(request, "imports/_progress.html", context)


@login_required
@require_GET
@scoped
def import_error_report(request: HttpRequest, job_id: int) -> HttpResponse:
    job = import_job_get_for_user(user=request.user, job_id=job_id)
    response = StreamingHttpResponse(import_error_report_lines(job=job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-report.csv"'
    return response


@login_required
@require_POST
@scoped
def export_everyone(request: HttpRequest) -> HttpResponse:
    """Everyone the user may see, as CSV (the candidate list exports a selection)."""
    # A refused role raises PermissionDenied, which `scoped` answers with 403.
    lines = export_candidates_csv(
        actor=request.user, candidates=candidates_visible_to(request.user), filters={"scope": "everyone"}
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="people-{stamp}.csv"'
    return response
