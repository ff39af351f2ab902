"""CSV export: content, streaming in chunks, scope, the audit entry, the role check and the command."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from rapport.candidates.exporting import EXPORT_CHUNK, EXPORT_COLUMNS, export_candidates_csv, spreadsheet_safe
from rapport.candidates.models import Candidate
from rapport.candidates.services import candidate_erase
from rapport.common.errors import PermissionDenied
from rapport.timeline.models import AuditEntry
from tests.factories import CandidateFactory, make_candidate


def parse(lines) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO("".join(lines))))


def test_export_writes_one_row_per_person_with_their_contact_points_and_tags(recruiter):
    ada = make_candidate(
        actor=recruiter,
        first_name="Ada",
        last_name="Lovelace",
        emails=["ada@example.org", "countess@example.org"],
        phones=["+44 20 7946 0958"],
        current_title="Analyst",
        current_company="Engines",
        location={"city": "London", "region": "", "country": "GB"},
        skills=["math", "poetry"],
        tags=["vip", "alumni"],
        source="referral",
    )

    rows = parse(export_candidates_csv(actor=recruiter, candidates=Candidate.objects.all()))

    assert list(rows[0]) == EXPORT_COLUMNS
    [row] = rows
    assert row["id"] == str(ada.pk)
    assert (row["first_name"], row["last_name"]) == ("Ada", "Lovelace")
    assert row["emails"] == "ada@example.org; countess@example.org"
    assert row["phones"] == "+442079460958"
    assert (row["current_title"], row["current_company"], row["city"], row["country"]) == (
        "Analyst",
        "Engines",
        "London",
        "GB",
    )
    assert row["skills"] == "math; poetry"
    assert row["tags"] == "alumni; vip"
    assert row["owner_email"] == recruiter.email
    assert row["relationship_status"] == "lead"
    assert row["created_at"].startswith(str(timezone.now().year))


def test_every_export_is_on_the_audit_log_with_its_count(recruiter):
    make_candidate(actor=recruiter, first_name="Ada", emails=["ada@example.org"])
    make_candidate(actor=recruiter, first_name="Bob", emails=["bob@example.org"])

    lines = export_candidates_csv(
        actor=recruiter, candidates=Candidate.objects.filter(first_name="Ada"), filters={"q": "ada"}
    )

    entry = AuditEntry.objects.get(action="export")
    assert entry.actor_id == recruiter.pk
    assert entry.changes["count"] == 1
    assert entry.changes["filters"] == {"q": "ada"}
    assert len(list(lines)) == 2


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer", "outsider"])
def test_only_roles_with_export_may_export(world, role):
    with pytest.raises(PermissionDenied):
        export_candidates_csv(actor=world[role], candidates=Candidate.objects.all())

    assert not AuditEntry.objects.filter(action="export").exists()


def test_erased_people_are_never_exported(admin_user):
    kept = make_candidate(actor=admin_user, first_name="Kept", emails=["kept@example.org"])
    gone = make_candidate(actor=admin_user, first_name="Gone", emails=["gone@example.org"])
    candidate_erase(actor=admin_user, candidate=gone)

    rows = parse(export_candidates_csv(actor=admin_user, candidates=Candidate.objects.all()))

    assert [row["id"] for row in rows] == [str(kept.pk)]


def test_many_people_stream_out_in_chunks(recruiter, django_assert_max_num_queries):
    CandidateFactory.create_batch(EXPORT_CHUNK + 5)
    lines = export_candidates_csv(actor=recruiter, candidates=Candidate.objects.all())

    # Each chunk costs a fixed number of queries (people + emails + phones + tags), never one per person.
    with django_assert_max_num_queries(12):
        streamed = list(lines)

    assert len(streamed) == EXPORT_CHUNK + 6


def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(recruiter):
    make_candidate(actor=recruiter, first_name='=HYPERLINK("http://evil")', current_company="@SUM(A1)")

    [row] = parse(export_candidates_csv(actor=recruiter, candidates=Candidate.objects.all()))

    assert row["first_name"].startswith("'=")
    assert row["current_company"] == "'@SUM(A1)"
    assert spreadsheet_safe("+44 20 7946 0958") == "+44 20 7946 0958"
    assert spreadsheet_safe("-1") == "-1"
    assert spreadsheet_safe("+442079460958; +14155550100") == "+442079460958; +14155550100"
    assert spreadsheet_safe("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0"


def test_the_export_command_writes_a_file_and_records_it(recruiter, tmp_path):
    make_candidate(actor=recruiter, first_name="Ada", emails=["ada@example.org"])
    out = tmp_path / "people.csv"
    err = io.StringIO()

    call_command("export_candidates", "--out", str(out), stderr=err)

    rows = parse([out.read_text()])
    assert [row["emails"] for row in rows] == ["ada@example.org"]
    assert "Exported 1 people" in err.getvalue()
    assert AuditEntry.objects.get(action="export").changes["filters"] == {"via": "command line"}


def test_the_export_command_checks_the_role_of_whom_it_runs_as(hiring_manager):
    with pytest.raises(CommandError, match="role"):
        call_command("export_candidates", "--as", hiring_manager.email, stdout=io.StringIO())
