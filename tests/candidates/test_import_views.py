"""The import pages: upload → map (with a live preview) → progress → report, permissions, and export of everyone."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from rapport.candidates.models import Candidate, ImportJob, ImportStatus
from rapport.common.embedded_worker import run_once
from rapport.timeline.models import AuditEntry
from tests.factories import make_candidate

HTMX = {"HTTP_HX_REQUEST": "true"}
CSV = (
    b"First name,Last name,E-mail,Country,Tags\n"
    b"Ada,Lovelace,ada@example.org,GB,vip\n"
    b"Bad,Email,not-an-email,GB,\n"
    b"Grace,Hopper,grace@example.org,US,\n"
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def csv_file(data: bytes = CSV, name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def upload(client: Client, data: bytes = CSV, name: str = "people.csv"):
    return client.post(reverse("imports:start"), {"file": csv_file(data, name)})


def staged_token(response) -> str:
    return response["Location"].rstrip("/").split("/")[-1]


def test_the_import_page_offers_an_upload_with_a_visible_label(recruiter):
    response = client_for(recruiter).get(reverse("imports:start"))

    body = response.content.decode()
    assert response.status_code == 200
    assert '<label class="field__label" for="id_file">CSV file' in body
    assert 'type="file"' in body and 'data-max-bytes="' in body
    assert "No imports yet" in body


def test_the_whole_flow_from_upload_to_report(recruiter):
    client = client_for(recruiter)

    uploaded = upload(client)
    assert uploaded.status_code == 302
    token = staged_token(uploaded)

    mapping_page = client.get(reverse("imports:map", args=[token]))
    body = mapping_page.content.decode()
    assert mapping_page.status_code == 200
    assert '<option value="emails" selected>' in body
    assert '<option value="country" selected>' in body
    assert "3 rows of people" in body
    assert "Will not import" in body  # row 3's email, flagged in the preview
    assert "ada@example.org" in body
    assert not Candidate.objects.exists()  # nothing is written before the import starts

    started = client.post(
        reverse("imports:map", args=[token]),
        {"col_0": "first_name", "col_1": "last_name", "col_2": "emails", "col_3": "country", "col_4": "tags",
         "on_duplicate": "skip"},
    )  # fmt: skip
    job = ImportJob.objects.get()
    assert started.status_code == 302
    assert started["Location"] == reverse("imports:detail", args=[job.pk])
    assert job.status == ImportStatus.PENDING
    assert job.created_by == recruiter

    progress_page = client.get(started["Location"]).content.decode()
    assert 'hx-get="' + reverse("imports:progress", args=[job.pk]) in progress_page
    assert 'hx-trigger="every 1s"' in progress_page
    assert 'role="progressbar"' in progress_page

    assert run_once() == 1

    polled = client.get(reverse("imports:progress", args=[job.pk]), **HTMX)
    assert polled["HX-Redirect"] == reverse("imports:detail", args=[job.pk])
    report = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "Import report" in report
    assert 'data-count="created">2<' in report
    assert 'data-count="errors">1<' in report
    assert "not a valid email" in report
    assert "Download error report (CSV)" in report
    assert set(Candidate.objects.values_list("last_name", flat=True)) == {"Lovelace", "Hopper"}

    download = client.get(reverse("imports:report", args=[job.pk]))
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert download["Content-Type"].startswith("text/csv")
    assert [(r["row"], r["column"], r["outcome"]) for r in rows] == [("3", "E-mail", "error")]


def test_the_preview_follows_the_chosen_columns(recruiter):
    client = client_for(recruiter)
    token = staged_token(upload(client))

    response = client.post(
        reverse("imports:preview", args=[token]),
        {"col_0": "first_name", "col_1": "", "col_2": "", "col_3": "", "col_4": "", "on_duplicate": "skip"},
        **HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert "Will not import" not in body  # the bad email column is no longer imported
    assert "Lovelace" not in body
    assert "Ada" in body


def test_a_bad_mapping_is_shown_next_to_the_select(recruiter):
    client = client_for(recruiter)
    token = staged_token(upload(client))

    response = client.post(
        reverse("imports:map", args=[token]),
        {"col_0": "first_name", "col_1": "first_name", "col_2": "emails", "col_3": "", "col_4": "",
         "on_duplicate": "skip"},
    )  # fmt: skip

    body = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_col_1_error"' in body
    assert "already mapped to First name" in body
    assert not ImportJob.objects.exists()


def test_an_oversized_upload_is_refused_next_to_the_field(recruiter, settings):
    settings.RAPPORT_MAX_IMPORT_MB = 1
    big = b"First name,Email\n" + b"".join(b"Someone,person%d@example.org\n" % i for i in range(50_000))

    response = upload(client_for(recruiter), big)

    body = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_file_error"' in body
    assert "imports are limited to 1 MB" in body


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("people.xlsx", b"PK\x03\x04workbook", "upload a .csv file"),
        ("people.csv", b"%PDF-1.7", "This is a PDF"),
        ("people.csv", b"\x00\x00\x00\x01", "not a text file"),
    ],
)
def test_files_that_are_not_csv_are_refused_next_to_the_field(recruiter, name, data, message):
    response = upload(client_for(recruiter), data, name)

    body = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_file_error"' in body and message in body


def test_an_upload_without_a_file_names_the_field(recruiter):
    response = client_for(recruiter).post(reverse("imports:start"), {})

    assert response.status_code == 422
    assert "Choose a CSV file to import." in response.content.decode()


def test_a_staged_file_belongs_to_the_user_who_uploaded_it(recruiter, admin_user):
    token = staged_token(upload(client_for(recruiter)))

    response = client_for(admin_user).get(reverse("imports:map", args=[token]))

    assert response.status_code == 302
    assert response["Location"] == reverse("imports:start")


def test_cancel_discards_the_staged_file(recruiter):
    client = client_for(recruiter)
    token = staged_token(upload(client))

    client.post(reverse("imports:cancel", args=[token]))

    assert client.get(reverse("imports:map", args=[token]))["Location"] == reverse("imports:start")


def test_duplicates_are_merged_when_asked(recruiter):
    existing = make_candidate(actor=recruiter, first_name="Ada", last_name="", emails=["ada@example.org"])
    client = client_for(recruiter)
    token = staged_token(upload(client))

    client.post(
        reverse("imports:map", args=[token]),
        {"col_0": "first_name", "col_1": "last_name", "col_2": "emails", "col_3": "", "col_4": "tags",
         "on_duplicate": "merge"},
    )  # fmt: skip
    run_once()

    existing.refresh_from_db()
    job = ImportJob.objects.get()
    assert (job.created_count, job.merged_count) == (1, 1)
    assert existing.last_name == "Lovelace"
    report = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert 'data-count="merged">1<' in report


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer", "outsider"])
def test_roles_without_import_cannot_use_the_import_pages(world, role):
    job = ImportJob.objects.create(created_by=world["recruiter"], original_name="x.csv", file="imports/x.csv")
    client = client_for(world[role])

    assert client.get(reverse("imports:start")).status_code == 403
    assert upload(client).status_code == 403
    assert client.get(reverse("imports:detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("imports:progress", args=[job.pk])).status_code == 404
    assert client.get(reverse("imports:report", args=[job.pk])).status_code == 404
    assert client.post(reverse("imports:export")).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(db):
    response = Client().get(reverse("imports:start"))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_recent_imports_are_listed(recruiter):
    ImportJob.objects.create(
        created_by=recruiter, original_name="spring-fair.csv", file="imports/a.csv", status=ImportStatus.DONE
    )

    body = client_for(recruiter).get(reverse("imports:start")).content.decode()

    assert "spring-fair.csv" in body and "Finished" in body


def test_everyone_can_be_exported_from_the_import_page(recruiter):
    make_candidate(actor=recruiter, first_name="Ada", emails=["ada@example.org"])

    response = client_for(recruiter).post(reverse("imports:export"))

    content = b"".join(response.streaming_content).decode()
    assert response["Content-Disposition"].startswith('attachment; filename="people-')
    assert "ada@example.org" in content
    assert AuditEntry.objects.filter(action="export", actor=recruiter).exists()
