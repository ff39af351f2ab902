"""CSV import: reading files, mapping columns, validating rows, deduplicating, batching and the command."""

import csv
import io
import time
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from rapport.candidates.importing import (
    import_job_create,
    import_job_run,
    import_mapping_clean,
    import_preview,
    read_csv,
    suggest_mapping,
)
from rapport.candidates.models import (
    Candidate,
    CandidateEmail,
    CandidatePhone,
    CandidateTag,
    CustomFieldDefinition,
    CustomFieldType,
    ImportJob,
    ImportStatus,
    RelationshipStatus,
)
from rapport.candidates.selectors import candidate_list
from rapport.common.embedded_worker import run_once
from rapport.common.errors import PermissionDenied, ValidationFailed
from rapport.timeline.models import Activity, AuditEntry, Note
from tests.factories import make_candidate

HEADER = ["First name", "Last name", "E-mail", "Mobile", "Job title", "Company", "City", "Country", "Skills", "Tags"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER, delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def upload(data: bytes, name: str = "people.csv") -> ContentFile:
    return ContentFile(data, name=name)


def run_import(actor, data: bytes, *, on_duplicate: str = "skip", mapping=None, **run_options) -> ImportJob:
    """Queue a file with the suggested (or given) mapping, then run it as the worker would."""
    source = read_csv(upload(data))
    job = import_job_create(
        actor=actor,
        upload=upload(data),
        mapping=mapping if mapping is not None else suggest_mapping(source.headers),
        on_duplicate=on_duplicate,
    )
    return import_job_run(job=job, **run_options)


def person(email: str) -> Candidate:
    return CandidateEmail.objects.select_related("candidate").get(email=email).candidate


def issues(job: ImportJob, kind: str = "error") -> list[dict]:
    return [issue for issue in job.errors if issue["kind"] == kind]


# ---------------------------------------------------------------------------------------------- mapping suggestion


def test_common_headers_are_mapped_to_the_right_fields(db):
    headers = [
        "First name",
        "Surname",
        "E-mail",
        "Email address",
        "Phone",
        "Mobile",
        "Title",
        "Company",
        "City",
        "State",
        "Country",
        "Skills",
        "Tags",
        "Source",
        "LinkedIn",
        "Notes",
        "Birthday",
        "Time zone",
        "Favourite colour",
    ]

    mapping = suggest_mapping(headers)

    assert [mapping[str(i)] for i in range(len(headers))] == [
        "first_name",
        "last_name",
        "emails",
        "emails",
        "phones",
        "phones",
        "current_title",
        "current_company",
        "city",
        "region",
        "country",
        "skills",
        "tags",
        "source",
        "links",
        "note",
        "birthday",
        "timezone",
        "",
    ]


def test_snake_case_and_synonyms_are_recognised_and_single_fields_are_not_suggested_twice(db):
    mapping = suggest_mapping(["first_name", "Given name", "current_company", "Work email", "Cell phone"])

    assert mapping == {"0": "first_name", "1": "", "2": "current_company", "3": "emails", "4": "phones"}


def test_a_single_name_column_is_split_but_not_when_first_and_last_exist(db):
    assert suggest_mapping(["Name", "Email"]) == {"0": "full_name", "1": "emails"}
    assert suggest_mapping(["Name", "First name", "Last name"]) == {"0": "", "1": "first_name", "2": "last_name"}


def test_our_own_export_maps_back_without_reading_the_owner_as_a_contact(db):
    from rapport.candidates.exporting import EXPORT_COLUMNS

    mapping = suggest_mapping(EXPORT_COLUMNS)
    by_header = {header: mapping[str(i)] for i, header in enumerate(EXPORT_COLUMNS)}

    assert by_header["owner_email"] == ""
    assert by_header["id"] == ""
    assert by_header["emails"] == "emails"
    assert by_header["relationship_status"] == "relationship_status"


def test_custom_fields_are_suggested_by_their_label_or_key(db):
    CustomFieldDefinition.objects.create(key="notice_period", label="Notice period", field_type=CustomFieldType.NUMBER)

    assert suggest_mapping(["Notice period", "notice_period"]) == {
        "0": "custom_fields.notice_period",
        "1": "",
    }


def test_a_mapping_must_name_a_first_name_and_may_not_map_one_field_twice(db):
    headers = ["A", "B", "C"]

    with pytest.raises(ValidationFailed) as twice:
        import_mapping_clean({"0": "first_name", "1": "first_name"}, headers=headers)
    with pytest.raises(ValidationFailed) as nameless:
        import_mapping_clean({"0": "emails"}, headers=headers)
    with pytest.raises(ValidationFailed) as unknown:
        import_mapping_clean({"0": "first_name", "2": "shoe_size"}, headers=headers)

    assert "mapping.1" in twice.value.fields
    assert "first name" in nameless.value.fields["mapping"][0].lower()
    assert "mapping.2" in unknown.value.fields
    assert import_mapping_clean({"0": "first_name", "1": "emails", "2": "emails"}, headers=headers) == {
        "0": "first_name",
        "1": "emails",
        "2": "emails",
    }


# ---------------------------------------------------------------------------------------------- happy path


def test_an_import_creates_people_with_everything_they_come_with(recruiter):
    data = csv_bytes(
        [
            ["Ada", "Lovelace", "Ada@Example.org; ada@work.example", "+44 20 7946 0958", "Analyst", "Engines", "London",
             "gb", "math, poetry", "vip; 2024"],
            ["Grace", "Hopper", "grace@example.org", "", "Admiral", "Navy", "Arlington", "US", "cobol", ""],
        ]
    )  # fmt: skip

    job = run_import(recruiter, data)

    assert job.status == ImportStatus.DONE
    assert (job.total_rows, job.processed_rows, job.created_count, job.error_count) == (2, 2, 2, 0)
    ada = person("ada@example.org")
    assert (ada.first_name, ada.last_name, ada.current_title, ada.current_company) == (
        "Ada",
        "Lovelace",
        "Analyst",
        "Engines",
    )
    assert (ada.city, ada.country, ada.skills, ada.owner_id) == ("London", "GB", ["math", "poetry"], recruiter.pk)
    assert list(ada.emails.values_list("email", flat=True)) == ["ada@example.org", "ada@work.example"]
    assert list(ada.phones.values_list("phone", flat=True)) == ["+442079460958"]
    assert sorted(CandidateTag.objects.filter(candidate=ada).values_list("tag__name", flat=True)) == ["2024", "vip"]
    created = Activity.objects.get(candidate=ada, type="candidate.created")
    assert created.payload == {"source": "import", "import_id": job.pk, "name": "Ada Lovelace"}
    assert created.actor_id == recruiter.pk
    assert Activity.objects.filter(candidate=ada, type="tag.added").count() == 2


def test_imported_people_are_found_by_search(recruiter):
    job = run_import(recruiter, csv_bytes([["Katherine", "Johnson", "kj@example.org", "", "", "NASA", "", "", "", ""]]))

    by_name = candidate_list(user=recruiter, filters={"q": "johnson"})
    by_company = candidate_list(user=recruiter, filters={"q": "nasa"})

    assert job.created_count == 1
    assert [c.last_name for c in by_name.items] == ["Johnson"]
    assert [c.last_name for c in by_company.items] == ["Johnson"]


def test_a_note_column_adds_a_note_to_the_timeline(recruiter):
    data = csv_bytes([["Ada", "ada@example.org", "Met at **PyCon**"]], header=["First name", "Email", "Notes"])

    run_import(recruiter, data)

    note = Note.objects.get(candidate=person("ada@example.org"))
    assert note.body == "Met at **PyCon**"
    assert "<strong>PyCon</strong>" in note.body_html
    assert Activity.objects.filter(candidate=note.candidate, type="note.added").exists()


def test_a_full_name_column_is_split_and_choices_are_accepted_by_label(recruiter):
    data = csv_bytes(
        [["Hopper, Grace", "grace@example.org", "Do not contact", "1906-12-09"], ["Alan Mathison Turing", "", "", ""]],
        header=["Name", "Email", "Status", "Birthday"],
    )

    run_import(recruiter, data)

    grace = person("grace@example.org")
    alan = Candidate.objects.get(first_name="Alan")
    assert (grace.first_name, grace.last_name) == ("Grace", "Hopper")
    assert grace.relationship_status == RelationshipStatus.DO_NOT_CONTACT
    assert grace.birthday == date(1906, 12, 9)
    assert alan.last_name == "Mathison Turing"


def test_the_import_is_on_the_audit_log(recruiter):
    job = run_import(recruiter, csv_bytes([["Ada", "", "ada@example.org", "", "", "", "", "", "", ""]]))

    entry = AuditEntry.objects.get(action="import")
    assert entry.actor_id == recruiter.pk
    assert entry.object_id == str(job.pk)
    assert entry.changes["created"] == 1
    assert entry.changes["file"] == "people.csv"


def test_progress_is_saved_after_every_batch(recruiter):
    rows = [[f"P{i}", "", f"p{i}@example.org", "", "", "", "", "", "", ""] for i in range(7)]
    seen: list[int] = []

    job = run_import(recruiter, csv_bytes(rows), progress_every=3, on_progress=lambda j: seen.append(j.processed_rows))

    assert seen[:2] == [3, 6]
    assert seen[-1] == 7
    assert ImportJob.objects.get(pk=job.pk).processed_rows == 7
    assert job.created_count == 7


def test_the_garbage_collector_passes_over_older_objects_only_while_an_import_runs(recruiter):
    import gc

    rows = [[f"P{i}", "", f"p{i}@example.org", "", "", "", "", "", "", ""] for i in range(4)]
    frozen_during: list[int] = []
    frozen_before = gc.get_freeze_count()

    job = run_import(
        recruiter, csv_bytes(rows), progress_every=2, on_progress=lambda j: frozen_during.append(gc.get_freeze_count())
    )

    assert job.created_count == 4
    assert frozen_during[0] > frozen_before  # what existed when it started is left out of collections
    assert gc.get_freeze_count() == frozen_before  # and is collected as usual again afterwards


def test_a_large_file_is_validated_in_a_second_process_with_the_same_outcome(recruiter):
    from multiprocessing import active_children

    from rapport.candidates.importing import PARALLEL_VALIDATION_MIN_ROWS

    rows, bad_rows, repeated_rows = [], set(), set()
    for i in range(PARALLEL_VALIDATION_MIN_ROWS):
        email = f"p{i}@example.org"
        if i % 100 == 7:
            email, _ = "not-an-email", bad_rows.add(i + 2)  # + 2: the header is row 1
        elif i % 250 == 0 and i:
            email, _ = f"p{i - 1}@example.org", repeated_rows.add(i + 2)
        rows.append([f"P{i}", "Last", email, f"+44 7700 {i:06d}", "", "", "", "GB", "go, sql", ""])
    children_seen: list[int] = []

    job = run_import(
        recruiter,
        csv_bytes(rows),
        progress_every=500,
        on_progress=lambda j: children_seen.append(len(active_children())),
    )

    assert job.status == ImportStatus.DONE
    assert max(children_seen) == 1 and active_children() == []  # one validating process, gone afterwards
    assert {issue["row"] for issue in issues(job)} == bad_rows
    assert {issue["row"] for issue in issues(job, "skipped")} == repeated_rows
    expected = PARALLEL_VALIDATION_MIN_ROWS - len(bad_rows) - len(repeated_rows)
    assert job.created_count == Candidate.objects.count() == expected
    assert person("p4998@example.org").phones.get().phone == "+447700004998"
    assert Activity.objects.filter(type="candidate.created").count() == expected
    created = Activity.objects.get(type="candidate.created", candidate=person("p4998@example.org"))
    assert created.payload == {"source": "import", "import_id": job.pk, "name": "P4998 Last"}
    found = candidate_list(user=recruiter, filters={"q": "p4998@example.org"})
    assert [c.first_name for c in found.items] == ["P4998"]


# ---------------------------------------------------------------------------------------------- bad rows


def test_bad_rows_are_reported_with_their_row_numbers_and_write_nothing(recruiter):
    data = csv_bytes(
        [
            ["Ada", "Lovelace", "ada@example.org", "", "", "", "", "GB", "", ""],
            ["Bad", "Email", "not-an-email", "", "", "", "", "", "", ""],
            ["", "Nameless", "nameless@example.org", "+1 415 555 0100", "", "", "", "", "", "vip"],
            ["Bad", "Country", "country@example.org", "+1 415 555 0101", "", "", "", "Germany", "", "vip"],
            ["Grace", "Hopper", "grace@example.org", "", "", "", "", "US", "", ""],
        ]
    )
    before = (Activity.objects.count(), CandidateTag.objects.count())

    job = run_import(recruiter, data)

    assert (job.created_count, job.error_count) == (2, 3)
    found = {(issue["row"], issue["field"], issue["column"]) for issue in issues(job)}
    assert found == {(3, "emails", "E-mail"), (4, "first_name", "First name"), (5, "country", "Country")}
    messages = {issue["row"]: issue["message"] for issue in issues(job)}
    assert "not a valid email" in messages[3]
    assert "two-letter country code" in messages[5]
    # Nothing of the failing rows exists: no person, no contact point, no tag, no event.
    assert set(Candidate.objects.values_list("last_name", flat=True)) == {"Lovelace", "Hopper"}
    assert not CandidateEmail.objects.filter(email__in=["nameless@example.org", "country@example.org"]).exists()
    assert not CandidatePhone.objects.exists()
    assert CandidateTag.objects.count() == before[1]
    assert Activity.objects.count() == before[0] + 2


def test_a_row_with_several_problems_reports_each_of_them(recruiter):
    data = csv_bytes([["", "", "nope", "", "", "", "", "ZZZ", "", ""]])

    job = run_import(recruiter, data)

    assert {issue["field"] for issue in issues(job)} == {"first_name", "emails", "country"}
    assert job.error_count == 3
    assert Candidate.objects.count() == 0


def test_a_file_with_only_bad_rows_still_finishes(recruiter):
    job = run_import(recruiter, csv_bytes([["", "X", "", "", "", "", "", "", "", ""]]))

    assert job.status == ImportStatus.DONE
    assert job.created_count == 0


# ---------------------------------------------------------------------------------------------- duplicates


def test_skip_reports_the_existing_person_and_leaves_them_untouched(recruiter):
    existing = make_candidate(actor=recruiter, first_name="Ada", last_name="", emails=["ada@example.org"])
    data = csv_bytes([["Ada", "Byron", "ADA@example.org", "", "Countess", "", "", "", "", "new"]])

    job = run_import(recruiter, data)

    existing.refresh_from_db()
    assert (job.created_count, job.skipped_count) == (0, 1)
    [skip] = issues(job, "skipped")
    assert skip["existing_id"] == existing.pk
    assert skip["row"] == 2
    assert "already belongs to Ada" in skip["message"]
    assert (existing.last_name, existing.current_title) == ("", "")
    assert job.error_count == 0


def test_a_phone_written_differently_is_the_same_person(recruiter):
    existing = make_candidate(actor=recruiter, first_name="Ada", phones=["+44 20 7946 0958"])

    job = run_import(recruiter, csv_bytes([["Ada", "", "", "+442079460958", "", "", "", "", "", ""]]))

    assert job.skipped_count == 1
    assert issues(job, "skipped")[0]["existing_id"] == existing.pk


def test_duplicates_within_the_file_are_skipped_as_the_same_person(recruiter):
    data = csv_bytes(
        [
            ["Ada", "Lovelace", "ada@example.org", "", "", "", "", "", "", ""],
            ["Ada", "L.", "ada@example.org", "", "Analyst", "", "", "", "", ""],
        ]
    )

    job = run_import(recruiter, data)

    assert (job.created_count, job.skipped_count) == (1, 1)
    assert issues(job, "skipped")[0]["same_as_row"] == 2
    assert person("ada@example.org").current_title == ""


def test_duplicates_in_later_batches_point_at_the_row_that_created_the_person(recruiter):
    data = csv_bytes(
        [
            ["Ada", "", "ada@example.org", "", "", "", "", "", "", ""],
            ["Bob", "", "bob@example.org", "", "", "", "", "", "", ""],
            ["Ada", "again", "ada@example.org", "", "", "", "", "", "", ""],
        ]
    )

    job = run_import(recruiter, data, progress_every=2)

    [skip] = issues(job, "skipped")
    assert skip["same_as_row"] == 2
    assert skip["existing_id"] == person("ada@example.org").pk


def test_merge_fills_blanks_and_adds_tags_skills_and_contact_points(recruiter):
    existing = make_candidate(
        actor=recruiter,
        first_name="Ada",
        last_name="Lovelace",
        current_title="",
        emails=["ada@example.org"],
        skills=["math"],
        tags=["vip"],
    )
    data = csv_bytes(
        [["Augusta", "Byron", "ada@example.org; countess@example.org", "+44 20 7946 0958", "Analyst", "", "", "",
          "poetry, Math", "alumni"]]
    )  # fmt: skip

    job = run_import(recruiter, data, on_duplicate="merge")

    existing.refresh_from_db()
    assert (job.created_count, job.merged_count, job.skipped_count) == (0, 1, 0)
    # Filled only what was blank; the name the team already had stays.
    assert (existing.first_name, existing.last_name, existing.current_title) == ("Ada", "Lovelace", "Analyst")
    assert existing.skills == ["math", "poetry"]
    assert sorted(CandidateTag.objects.filter(candidate=existing).values_list("tag__name", flat=True)) == [
        "alumni",
        "vip",
    ]
    assert list(existing.emails.values_list("email", flat=True)) == ["ada@example.org", "countess@example.org"]
    assert list(existing.phones.values_list("phone", flat=True)) == ["+442079460958"]
    updated = Activity.objects.get(candidate=existing, type="candidate.updated")
    assert updated.payload["source"] == "import"
    assert set(updated.payload["fields"]) == {"current_title", "skills", "emails", "phones"}
    audit = AuditEntry.objects.get(action="update", object_id=str(existing.pk))
    assert audit.changes["current_title"] == ["", "Analyst"]
    assert candidate_list(user=recruiter, filters={"q": "countess@example.org"}).items == [existing]


def test_merge_honours_do_not_contact_but_does_not_overwrite_another_status(recruiter):
    engaged = make_candidate(actor=recruiter, first_name="E", emails=["e@example.org"], relationship_status="engaged")
    lead = make_candidate(actor=recruiter, first_name="L", emails=["l@example.org"])
    data = csv_bytes(
        [["E", "e@example.org", "applicant"], ["L", "l@example.org", "do not contact"]],
        header=["First name", "Email", "Relationship status"],
    )

    run_import(recruiter, data, on_duplicate="merge")

    engaged.refresh_from_db()
    lead.refresh_from_db()
    assert engaged.relationship_status == "engaged"
    assert lead.relationship_status == RelationshipStatus.DO_NOT_CONTACT


def test_merge_folds_duplicates_within_the_file_into_one_new_person(recruiter):
    data = csv_bytes(
        [
            ["Ada", "", "ada@example.org", "+44 20 7946 0958", "", "", "", "", "math", "a"],
            ["Ada", "Lovelace", "countess@example.org", "+44 20 7946 0958", "Analyst", "", "", "", "poetry", "b"],
        ]
    )

    job = run_import(recruiter, data, on_duplicate="merge")

    ada = person("ada@example.org")
    assert (job.created_count, job.merged_count) == (1, 1)
    assert Candidate.objects.count() == 1
    assert (ada.last_name, ada.current_title, ada.skills) == ("Lovelace", "Analyst", ["math", "poetry"])
    assert list(ada.emails.values_list("email", flat=True)) == ["ada@example.org", "countess@example.org"]
    assert sorted(CandidateTag.objects.filter(candidate=ada).values_list("tag__name", flat=True)) == ["a", "b"]


def test_merge_never_moves_a_contact_point_that_belongs_to_someone_else(recruiter):
    ada = make_candidate(actor=recruiter, first_name="Ada", emails=["ada@example.org"])
    bob = make_candidate(actor=recruiter, first_name="Bob", phones=["+1 415 555 0100"])
    data = csv_bytes([["Ada", "", "ada@example.org", "+1 415 555 0100", "", "", "", "", "", ""]])

    job = run_import(recruiter, data, on_duplicate="merge")

    assert job.merged_count == 1
    assert not ada.phones.exists()
    assert list(bob.phones.values_list("phone", flat=True)) == ["+14155550100"]


def test_a_person_taken_by_someone_else_mid_batch_fails_alone(recruiter):
    """A concurrent writer (a trigger here) takes an email between the batch's lookup and its insert: the batch
    is redone row by row in savepoints, so only that row is affected and the rest are imported."""
    other = make_candidate(actor=recruiter, first_name="Other")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER take_email AFTER INSERT ON candidates_candidate WHEN NEW.first_name = 'Racer' "
                "BEGIN INSERT OR IGNORE INTO candidates_candidateemail(candidate_id, email, position) "
                f"VALUES ({other.pk}, 'taken@example.org', 0); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION take_email() RETURNS trigger AS $$ BEGIN "
                "INSERT INTO candidates_candidateemail(candidate_id, email, position) "
                f"VALUES ({other.pk}, 'taken@example.org', 0) ON CONFLICT DO NOTHING; RETURN NEW; END $$ "
                "LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER take_email AFTER INSERT ON candidates_candidate FOR EACH ROW "
                "WHEN (NEW.first_name = 'Racer') EXECUTE FUNCTION take_email()"
            )
    data = csv_bytes(
        [
            ["Racer", "", "racer@example.org", "", "", "", "", "", "", ""],
            ["Taker", "", "taken@example.org", "", "", "", "", "", "", ""],
            ["Calm", "", "calm@example.org", "", "", "", "", "", "", ""],
        ]
    )

    job = run_import(recruiter, data)

    assert (job.created_count, job.skipped_count, job.error_count) == (2, 1, 0)
    assert issues(job, "skipped")[0]["existing_id"] == other.pk
    assert set(Candidate.objects.values_list("first_name", flat=True)) == {"Other", "Racer", "Calm"}


# ---------------------------------------------------------------------------------------------- files


def test_utf8_with_bom_and_semicolons_is_read(recruiter):
    data = "\ufeffVorname;Nachname;E-Mail;Stadt\nJürgen;Müller;jm@example.de;Köln\n".encode()

    job = run_import(recruiter, data)

    jurgen = person("jm@example.de")
    assert (jurgen.first_name, jurgen.last_name, jurgen.city) == ("Jürgen", "Müller", "Köln")
    assert job.created_count == 1


def test_latin1_and_tab_separated_files_are_read(recruiter):
    data = "First name\tLast name\tEmail\nJosé\tNúñez\tjose@example.es\n".encode("latin-1")

    source = read_csv(upload(data))
    run_import(recruiter, data)

    assert source.delimiter == "\t"
    assert source.encoding in ("cp1252", "latin-1")
    assert person("jose@example.es").last_name == "Núñez"


def test_commas_inside_quoted_cells_do_not_confuse_the_delimiter(db):
    data = b'Name,Skills,Email\n"Hopper, Grace","cobol; math",g@example.org\n'

    preview = import_preview(file=upload(data))

    assert preview["delimiter"] == ","
    assert preview["rows"][0]["values"]["first_name"] == "Grace"
    assert preview["rows"][0]["values"]["skills"] == "cobol; math"


def test_an_oversized_file_is_refused_naming_the_file_field(recruiter, settings):
    settings.RAPPORT_MAX_IMPORT_MB = 1
    data = csv_bytes([["x" * 100, "", f"p{i}@example.org", "", "", "", "", "", "", ""] for i in range(12_000)])

    with pytest.raises(ValidationFailed) as refused:
        import_job_create(actor=recruiter, upload=upload(data), mapping={"0": "first_name"})

    assert "limited to 1 MB" in refused.value.fields["file"][0]
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    "name, data, expected",
    [
        ("people.xlsx", b"PK\x03\x04 workbook", "upload a .csv file"),
        ("people.csv", b"PK\x03\x04\x14\x00 renamed workbook", "Excel"),
        ("people.csv", b"%PDF-1.4 not a table", "PDF"),
        ("people.csv", b"\x00\x01\x02binary\x00garbage", "not a text file"),
        ("people.csv", b"", "empty"),
    ],
)
def test_files_that_are_not_csv_are_refused_with_a_clear_message(recruiter, name, data, expected):
    with pytest.raises(ValidationFailed) as refused:
        import_job_create(actor=recruiter, upload=upload(data, name), mapping={"0": "first_name"})

    assert expected in refused.value.fields["file"][0]


def test_a_header_without_rows_is_refused(recruiter):
    with pytest.raises(ValidationFailed) as refused:
        import_job_create(actor=recruiter, upload=upload(b"First name,Email\n"), mapping={"0": "first_name"})

    assert "no people" in refused.value.fields["file"][0]


def test_the_preview_shows_rows_as_they_will_be_imported_and_flags_problems(recruiter):
    make_candidate(actor=recruiter, first_name="Known", emails=["known@example.org"])
    data = csv_bytes(
        [
            ["Ada", "Lovelace", "ADA@example.org", "+44 20 7946 0958", "", "", "", "gb", "", ""],
            ["", "Nameless", "x@example.org", "", "", "", "", "", "", ""],
            ["Known", "", "known@example.org", "", "", "", "", "", "", ""],
        ]
    )

    preview = import_preview(file=upload(data))

    first, second, third = preview["rows"]
    assert preview["total_rows"] == 3
    assert preview["headers"] == HEADER
    assert first["values"]["emails"] == "ada@example.org"
    assert first["values"]["phones"] == "+442079460958"
    assert first["values"]["country"] == "GB"
    assert first["issues"] == [] and first["existing_id"] is None
    assert [(i["row"], i["field"]) for i in second["issues"]] == [(3, "first_name")]
    assert third["existing_id"] == person("known@example.org").pk
    assert not Candidate.objects.filter(first_name="Ada").exists()


def test_roles_without_import_cannot_queue_an_import(hiring_manager):
    with pytest.raises(PermissionDenied):
        import_job_create(actor=hiring_manager, upload=upload(csv_bytes([["A"] * 10])), mapping={"0": "first_name"})


# ---------------------------------------------------------------------------------------------- running jobs


def test_the_embedded_worker_runs_a_waiting_job_once(recruiter):
    data = csv_bytes([["Ada", "", "ada@example.org", "", "", "", "", "", "", ""]])
    job = import_job_create(actor=recruiter, upload=upload(data), mapping=suggest_mapping(HEADER))

    first = run_once()
    second = run_once()

    job.refresh_from_db()
    assert (first, second) == (1, 0)
    assert job.status == ImportStatus.DONE
    assert Candidate.objects.count() == 1


def test_a_job_another_worker_has_claimed_is_left_alone(recruiter):
    data = csv_bytes([["Ada", "", "ada@example.org", "", "", "", "", "", "", ""]])
    job = import_job_create(actor=recruiter, upload=upload(data), mapping=suggest_mapping(HEADER))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, heartbeat_at=timezone.now())

    result = import_job_run(job=job)

    assert result.status == ImportStatus.RUNNING
    assert Candidate.objects.count() == 0


class _ProcessDied(BaseException):
    """Stands for the worker's process being killed: nothing in the import may catch it."""


def test_a_job_whose_worker_died_is_taken_over_from_its_last_batch(recruiter):
    rows = [[f"P{i}", "", f"p{i}@example.org", "", "", "", "", "", "", ""] for i in range(3)]
    job = import_job_create(actor=recruiter, upload=upload(csv_bytes(rows)), mapping=suggest_mapping(HEADER))

    def die(_job):
        raise _ProcessDied

    with pytest.raises(_ProcessDied):
        import_job_run(job=job, progress_every=1, on_progress=die)
    job.refresh_from_db()
    assert (job.status, job.processed_rows, Candidate.objects.count()) == (ImportStatus.RUNNING, 1, 1)

    assert run_once() == 0  # its heartbeat is fresh: the worker may still be alive
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=10))
    assert run_once() == 1

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert (job.processed_rows, job.created_count) == (3, 3)
    assert sorted(Candidate.objects.values_list("first_name", flat=True)) == ["P0", "P1", "P2"]


def test_a_job_whose_file_has_gone_ends_as_failed(recruiter):
    data = csv_bytes([["Ada", "", "ada@example.org", "", "", "", "", "", "", ""]])
    job = import_job_create(actor=recruiter, upload=upload(data), mapping=suggest_mapping(HEADER))
    job.file.delete(save=False)

    job = import_job_run(job=job)

    assert job.status == ImportStatus.FAILED
    assert job.errors[-1]["field"] == "file"
    assert job.finished_at is not None


# ---------------------------------------------------------------------------------------------- the command


def test_the_command_imports_with_overrides_and_a_progress_bar(recruiter, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(
        csv_bytes(
            [["Ada", "Lovelace", "ada@example.org", "x"], ["", "Nameless", "n@example.org", "y"]],
            header=["First name", "Last name", "Work", "Colour"],
        )
    )
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "import_candidates",
        str(path),
        "--map",
        "Work=emails",
        "--map",
        "colour=headline",
        "--as",
        recruiter.email,
        "--report",
        str(tmp_path / "report.csv"),
        stdout=out,
        stderr=err,
    )

    ada = person("ada@example.org")
    assert (ada.headline, ada.owner_id) == ("x", recruiter.pk)
    assert "1 created" in out.getvalue() and "1 with errors" in out.getvalue()
    assert "row 3, First name: A first name is required." in out.getvalue()
    assert "100%" in err.getvalue() and "2/2 rows" in err.getvalue()
    assert "A first name is required" in (tmp_path / "report.csv").read_text()


def test_the_command_exits_non_zero_on_an_unreadable_file(db, tmp_path):
    (tmp_path / "people.pdf").write_bytes(b"%PDF-1.4")

    with pytest.raises(CommandError, match="No such file"):
        call_command("import_candidates", str(tmp_path / "missing.csv"), stdout=io.StringIO())
    with pytest.raises(CommandError, match="upload a .csv file"):
        call_command("import_candidates", str(tmp_path / "people.pdf"), stdout=io.StringIO())
    with pytest.raises(CommandError, match="no column 'Nope'"):
        path = tmp_path / "ok.csv"
        path.write_bytes(b"First name\nAda\n")
        call_command("import_candidates", str(path), "--map", "Nope=emails", stdout=io.StringIO())


# ---------------------------------------------------------------------------------------------- batches and errors


def test_a_reading_error_met_ahead_of_time_is_raised_only_when_its_batch_is_taken():
    """The next batch is read while the current one is written; an error in it must not undo that write."""
    from rapport.candidates.importing import _Lookahead, _PreparedBatch

    first = _PreparedBatch(people=[], issues=[], seen=2, rows_read=2)

    def batches():
        yield first
        raise ValidationFailed.single("file", "Row 4 cannot be read as CSV.")

    lookahead = _Lookahead(batches())
    assert lookahead.take() is first
    lookahead.read_ahead()  # while `first` is being written: the error waits

    with pytest.raises(ValidationFailed):
        lookahead.take()


def test_custom_field_definitions_are_read_once_per_import_not_once_per_row(recruiter, django_assert_max_num_queries):
    CustomFieldDefinition.objects.create(key="notice_period", label="Notice period", field_type=CustomFieldType.NUMBER)
    rows = [[f"P{i}", f"p{i}@example.org", str(i)] for i in range(40)]
    rows.append(["Bad", "bad@example.org", "soon"])
    data = csv_bytes(rows, header=["First name", "E-mail", "Notice period"])
    source = read_csv(upload(data))
    job = import_job_create(
        actor=recruiter, upload=upload(data), mapping=suggest_mapping(source.headers), on_duplicate="skip"
    )

    with django_assert_max_num_queries(40):
        job = import_job_run(job=job)

    assert job.created_count == 40
    assert person("p7@example.org").custom_fields == {"notice_period": 7}
    [error] = issues(job)
    assert error["field"] == "custom_fields.notice_period"
    assert error["row"] == 42


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgres_a_clash_found_while_the_next_batch_is_read_falls_back_to_row_by_row(recruiter):
    """The overlapped send (rows, index, foreign-key checks on a helper thread) reports a clash the way the
    plain path does, so the batch is redone row by row and only the clashing row fails."""
    from django.db import IntegrityError, transaction

    from rapport.candidates import importing
    from rapport.common.fast_insert import prepared_insert

    taken = make_candidate(actor=recruiter, first_name="Taken", emails=["taken@example.org"])
    read: list[str] = []
    clash = prepared_insert(CandidateEmail, ("candidate_id", "email", "position"), [(taken.pk, "taken@example.org", 1)])

    with pytest.raises(IntegrityError), transaction.atomic():
        importing._finish_on_server_while([clash], [], lambda: read.append("next batch"))

    assert read == ["next batch"]
    assert CandidateEmail.objects.filter(email="taken@example.org").count() == 1


# ---------------------------------------------------------------------------------------------- foreign key checks


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgres_row_checks_are_skipped_only_by_a_role_that_may_and_with_no_other_insert_trigger(recruiter):
    from rapport.candidates.importing import _row_checks_may_be_skipped

    assert _row_checks_may_be_skipped()  # the test database's role is a superuser

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION audit_activity() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER audit_activity AFTER INSERT ON timeline_activity "
            "FOR EACH ROW EXECUTE FUNCTION audit_activity()"
        )
    assert not _row_checks_may_be_skipped()

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE timeline_activity DISABLE TRIGGER audit_activity")
    assert _row_checks_may_be_skipped()

    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE rapport_test_importer NOLOGIN")
        cursor.execute("SET LOCAL ROLE rapport_test_importer")
    assert not _row_checks_may_be_skipped()


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgres_the_people_table_keeps_room_on_its_pages(db):
    """Fillfactor 90 (migration 0008): updates stay on their page, and an import after a vacuum fills new pages
    rather than the last few hundred bytes of thousands of old ones."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'candidates_candidate'")
        assert cursor.fetchone()[0] == ["fillfactor=90"]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgres_a_role_that_may_not_skip_row_checks_imports_the_same(recruiter):
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE rapport_test_importer NOLOGIN")
        cursor.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO rapport_test_importer")
        cursor.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO rapport_test_importer")
        cursor.execute("SET LOCAL ROLE rapport_test_importer")
    data = csv_bytes(
        [
            ["Ada", "Lovelace", "ada@example.org", "+44 20 7946 0958", "", "", "", "", "Python", "vip; alumni"],
            ["Bob", "", "bob@example.org", "", "", "", "", "", "", "vip"],
        ]
    )

    job = run_import(recruiter, data)

    assert (job.status, job.created_count, job.error_count) == (ImportStatus.DONE, 2, 0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == "rapport_test_importer"
    ada = person("ada@example.org")
    assert sorted(CandidateTag.objects.filter(candidate=ada).values_list("tag__name", flat=True)) == ["alumni", "vip"]
    assert Activity.objects.filter(candidate=ada).count() == 3  # created, and a tag twice
    assert [p.first_name for p in candidate_list(user=recruiter, filters={"q": "python"}).items] == ["Ada"]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgres_a_batch_pointing_at_a_tag_deleted_meanwhile_is_refused_by_the_checks(recruiter):
    from django.db import IntegrityError, transaction

    from rapport.candidates import importing
    from rapport.candidates.models import Tag
    from rapport.common.fast_insert import prepared_insert

    someone = make_candidate(actor=recruiter, first_name="Someone")
    gone = Tag.objects.create(name="gone")
    gone_id = gone.pk
    gone.delete()
    link = prepared_insert(
        CandidateTag,
        ("candidate_id", "tag_id", "added_by_id", "added_at"),
        [(someone.pk, gone_id, None, timezone.now())],
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        importing._finish_on_server_while([link], [], lambda: None, importing._Parents(tag_ids=frozenset({gone_id})))

    assert not CandidateTag.objects.filter(candidate=someone).exists()


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))
def test_postgres_the_tags_and_users_a_batch_points_at_cannot_be_deleted_until_it_commits(recruiter):
    from django.db import OperationalError, connections, transaction

    from rapport.candidates import importing
    from rapport.candidates.models import Tag

    tag = Tag.objects.create(name="kept")
    other = connections.create_connection("default")
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                assert importing._parents_locked(
                    cursor.cursor, importing._Parents(frozenset({tag.pk}), frozenset({recruiter.pk}))
                )
            with other.cursor() as cursor:
                cursor.execute("SET lock_timeout = '200ms'")
                with pytest.raises(OperationalError, match="lock timeout"):
                    cursor.execute("DELETE FROM candidates_tag WHERE id = %s", [tag.pk])
                with pytest.raises(OperationalError, match="lock timeout"):
                    cursor.execute("DELETE FROM accounts_user WHERE id = %s", [recruiter.pk])
        with other.cursor() as cursor:
            cursor.execute("DELETE FROM candidates_tag WHERE id = %s", [tag.pk])
        assert not Tag.objects.filter(pk=tag.pk).exists()
    finally:
        other.close()


# ---------------------------------------------------------------------------------------------- batches prepared ahead


def _reservations(queries) -> int:
    """How many batches drew their new people's ids on the importing connection, i.e. were prepared in turn."""
    return sum("nextval" in query["sql"] for query in queries)


@pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))
def test_batches_prepared_ahead_see_the_batch_being_sent_and_committed_people(recruiter):
    """On PostgreSQL each batch after the first is prepared while the one before it is sent, reading through a
    second connection; what it cannot see there (the batch being sent) it takes from memory."""
    from django.test.utils import CaptureQueriesContext

    old = make_candidate(actor=recruiter, first_name="Olive", last_name="Old", emails=["old@example.org"])
    data = csv_bytes(
        [
            ["Ada", "", "ada@example.org", "", "", "", "", "", "", "vip"],
            ["Bob", "", "bob@example.org", "+44 20 7946 0958", "", "", "", "", "", ""],
            ["Ada", "again", "ada@example.org", "", "", "", "", "", "", ""],
            ["Olga", "", "old@example.org", "", "", "", "", "", "", ""],
            ["Cy", "", "cy@example.org", "", "", "", "", "", "SQL", "vip"],
            ["Bobby", "", "bobby@example.org", "+442079460958", "", "", "", "", "", ""],
            ["Dee", "", "dee@example.org", "", "", "", "", "", "", "VIP"],
        ]
    )

    with CaptureQueriesContext(connection) as queries:
        job = run_import(recruiter, data, progress_every=2)

    assert (job.status, job.created_count, job.skipped_count, job.error_count) == (ImportStatus.DONE, 4, 3, 0)
    ada, bob = person("ada@example.org"), person("bob@example.org")
    assert [(s["row"], s.get("same_as_row"), s["existing_id"], s["message"]) for s in issues(job, "skipped")] == [
        (4, 2, ada.pk, "Same email (ada@example.org) as row 2, already imported; skipped."),
        (5, None, old.pk, f"old@example.org already belongs to Olive Old (#{old.pk}); skipped."),
        (7, 3, bob.pk, "Same phone (+442079460958) as row 3, already imported; skipped."),
    ]
    assert sorted(Candidate.objects.values_list("first_name", flat=True)) == ["Ada", "Bob", "Cy", "Dee", "Olive"]
    tagged = CandidateTag.objects.filter(tag__name="vip").values_list("candidate__first_name", flat=True)
    assert sorted(tagged) == ["Ada", "Cy", "Dee"]
    assert Activity.objects.filter(type="candidate.created", payload__import_id=job.pk).count() == 4
    assert [p.first_name for p in candidate_list(user=recruiter, filters={"q": "sql"}).items] == ["Cy"]
    if connection.vendor == "postgresql":
        assert _reservations(queries) == 1  # the first batch; the three after it were prepared ahead


@pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))
def test_a_clash_in_a_batch_prepared_ahead_falls_back_to_row_by_row(recruiter):
    other = make_candidate(actor=recruiter, first_name="Other")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER take_email AFTER INSERT ON candidates_candidate WHEN NEW.first_name = 'Racer' "
                "BEGIN INSERT OR IGNORE INTO candidates_candidateemail(candidate_id, email, position) "
                f"VALUES ({other.pk}, 'taken@example.org', 0); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION take_email() RETURNS trigger AS $$ BEGIN "
                "INSERT INTO candidates_candidateemail(candidate_id, email, position) "
                f"VALUES ({other.pk}, 'taken@example.org', 0) ON CONFLICT DO NOTHING; RETURN NEW; END $$ "
                "LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER take_email AFTER INSERT ON candidates_candidate FOR EACH ROW "
                "WHEN (NEW.first_name = 'Racer') EXECUTE FUNCTION take_email()"
            )
    data = csv_bytes(
        [
            ["First", "", "first@example.org", "", "", "", "", "", "", ""],
            ["Second", "", "second@example.org", "", "", "", "", "", "", ""],
            ["Racer", "", "racer@example.org", "", "", "", "", "", "", ""],
            ["Taker", "", "taken@example.org", "", "", "", "", "", "", ""],
            ["Calm", "", "calm@example.org", "", "", "", "", "", "", ""],
            ["Last", "", "first@example.org", "", "", "", "", "", "", ""],
        ]
    )

    try:
        job = run_import(recruiter, data, progress_every=2)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER take_email" + ("" if connection.vendor == "sqlite" else " ON candidates_candidate")
            )
            if connection.vendor == "postgresql":
                cursor.execute("DROP FUNCTION take_email()")

    assert (job.status, job.created_count, job.skipped_count, job.error_count) == (ImportStatus.DONE, 4, 2, 0)
    skipped = {issue["row"]: issue["existing_id"] for issue in issues(job, "skipped")}
    assert skipped == {5: other.pk, 7: person("first@example.org").pk}
    names = set(Candidate.objects.values_list("first_name", flat=True))
    assert names == {"Other", "First", "Second", "Racer", "Calm"}


@pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))
def test_a_tag_first_met_in_a_later_batch_is_created_in_that_batchs_turn(recruiter):
    data = csv_bytes(
        [
            ["Ada", "", "ada@example.org", "", "", "", "", "", "", "known"],
            ["Bob", "", "bob@example.org", "", "", "", "", "", "", ""],
            ["Cy", "", "cy@example.org", "", "", "", "", "", "", "fresh; known"],
            ["Dee", "", "dee@example.org", "", "", "", "", "", "", ""],
        ]
    )

    job = run_import(recruiter, data, progress_every=2)

    assert (job.status, job.created_count) == (ImportStatus.DONE, 4)
    links = CandidateTag.objects.values_list("candidate__first_name", "tag__name")
    assert sorted(links) == [("Ada", "known"), ("Cy", "fresh"), ("Cy", "known")]


def _start_validator_and_wait(headers: list[str], report) -> None:
    """A stand-in importing process: starts a validator, reports its child's pid, then waits to be killed."""
    from multiprocessing import active_children

    from rapport.candidates.importing import _Plan, _Validator

    validator = _Validator.start(_Plan({"0": "first_name"}, headers))
    assert validator is not None
    report.send([child.pid for child in active_children()])
    time.sleep(60)


def test_the_validating_process_exits_when_the_importing_process_is_killed():
    import multiprocessing
    import os
    import signal

    context = multiprocessing.get_context("fork")
    receive, report = context.Pipe(duplex=False)
    importing = context.Process(target=_start_validator_and_wait, args=(["First name"], report))
    importing.start()
    (validator_pid,) = receive.recv()

    os.kill(importing.pid, signal.SIGKILL)
    importing.join()

    def alive(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 10
    while alive(validator_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(validator_pid)
