"""CSV import of people: read any spreadsheet's CSV, map its columns, and write the rows in fast batches.

Speed comes from doing once per batch what `candidate_create` does once per row: one lookup of the batch's emails
and phones, bulk inserts, one search-index write and one transaction. Validation is the function create itself
uses (`candidate_clean`), so an imported person is valid by exactly the rules of one typed in by hand. A row that
fails validation writes nothing and is reported; the other rows go on.

Row numbers in reports count the header as row 1, as a spreadsheet shows them.
"""

import codecs
import csv
import gc
import io
import json
import logging
import multiprocessing
import os
import re
import secrets
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connection, connections, transaction
from django.db.models import Q, TextChoices
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, ensure
from rapport.candidates.exporting import spreadsheet_safe
from rapport.candidates.models import (
    Candidate,
    CandidateEmail,
    CandidatePhone,
    CandidateTag,
    Channel,
    CustomFieldDefinition,
    ImportJob,
    ImportStatus,
    RelationshipStatus,
    Tag,
)
from rapport.candidates.services import (
    _tag_objects,
    build_documents,
    candidate_clean,
    candidate_document,
    custom_field_definitions_by_key,
)
from rapport.common.errors import ApplicationError, ValidationFailed
from rapport.common.fast_insert import (
    CopyText,
    PreparedInsert,
    bound_cursor,
    db_value,
    prepared_insert,
    reserve_ids,
    row_converter,
    run_prepared,
)
from rapport.common.fast_insert import insert_rows as _insert
from rapport.common.html import markdown_to_safe_html
from rapport.search import backends as search_backend
from rapport.search.backends import DocumentText, document_text, document_vector
from rapport.timeline.models import Activity, AuditEntry, Note
from rapport.timeline.services import MAX_NOTE_LENGTH, audit_record

logger = logging.getLogger(__name__)

ACCEPTED_SUFFIXES = (".csv", ".txt", ".tsv")
DUPLICATE_CHOICES = ("skip", "merge")
DEFAULT_BATCH_ROWS = 1000
# The error list lives in one JSON column; past this many entries only the counts keep growing.
MAX_STORED_ISSUES = 10_000
# A batch of DEFAULT_BATCH_ROWS takes about a second; a job silent for this long has lost its worker.
STALE_IMPORT_AFTER = timedelta(minutes=5)
PREVIEW_ROWS = 5
_DELIMITERS = (",", ";", "\t", "|")
_LOOKUP_CHUNK = 900
_SWITCH_INTERVAL = 0.0005  # seconds; see import_job_run
# From this many rows on, validation runs in a second process (see `_Validator`); below it, forking costs more
# than it saves.
PARALLEL_VALIDATION_MIN_ROWS = 5_000
_VALIDATED_AHEAD = 3  # batches the validating process may be ahead of the writer
_STAGING_DIR = "imports/staging"
_STAGING_TOKEN = re.compile(r"^[0-9a-f]{32}$")


# --------------------------------------------------------------------------------------------------------------
# Target fields and the mapping suggestion
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportField:
    key: str
    label: str
    multiple: bool = False  # several columns may feed it (their values are combined)


BASE_FIELDS: tuple[ImportField, ...] = (
    ImportField("first_name", "First name"),
    ImportField("last_name", "Last name"),
    ImportField("full_name", "Full name (split into first and last)"),
    ImportField("emails", "Email", multiple=True),
    ImportField("phones", "Phone", multiple=True),
    ImportField("headline", "Headline"),
    ImportField("current_title", "Current title"),
    ImportField("current_company", "Current company"),
    ImportField("city", "City"),
    ImportField("region", "Region / state"),
    ImportField("country", "Country (two-letter code)"),
    ImportField("timezone", "Time zone"),
    ImportField("language", "Language"),
    ImportField("skills", "Skills", multiple=True),
    ImportField("tags", "Tags", multiple=True),
    ImportField("links", "Links", multiple=True),
    ImportField("source", "Source"),
    ImportField("birthday", "Birthday (YYYY-MM-DD)"),
    ImportField("relationship_status", "Relationship status"),
    ImportField("preferred_channel", "Preferred channel"),
    ImportField("note", "Note (added to the timeline)", multiple=True),
)

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": ("first", "firstname", "given name", "givenname", "forename", "first names", "vorname", "prenom"),
    "last_name": ("last", "lastname", "surname", "family name", "familyname", "nachname", "nom"),
    "full_name": ("name", "fullname", "candidate name", "candidate", "contact name", "person", "contact"),
    "emails": ("email", "e mail", "email address", "e mail address", "mail", "emails", "email addresses"),
    "phones": (
        "phone",
        "phone number",
        "mobile",
        "mobile phone",
        "cell",
        "telephone",
        "tel",
        "phones",
        "telefon",
        "handy",
        "telephone number",
    ),
    "headline": ("headline", "tagline", "profile headline", "summary"),
    "current_title": ("title", "job title", "position", "role", "current position", "occupation", "job"),
    "current_company": (
        "company",
        "employer",
        "organisation",
        "organization",
        "current employer",
        "firm",
        "firma",
        "unternehmen",
        "entreprise",
        "empresa",
    ),
    "city": ("city", "town", "location", "locality", "stadt", "ort", "ville", "ciudad"),
    "region": ("region", "state", "province", "county", "state province", "state region"),
    "country": ("country", "country code", "nation", "land", "pays", "pais"),
    "timezone": ("time zone", "timezone", "tz"),
    "language": ("language", "preferred language", "lang", "locale"),
    "skills": ("skills", "skill", "competencies", "expertise", "technologies", "keywords"),
    "tags": ("tags", "tag", "labels", "label"),
    "links": ("links", "link", "url", "urls", "website", "linkedin", "linkedin url", "linkedin profile", "github"),
    "source": ("source", "lead source", "origin", "candidate source"),
    "birthday": ("birthday", "birth date", "date of birth", "dob", "birthdate"),
    "relationship_status": ("status", "relationship status", "relationship", "candidate status"),
    "preferred_channel": ("preferred channel", "channel", "contact preference"),
    "note": ("notes", "note", "comments", "comment", "remarks", "notizen", "bemerkungen"),
}
# Columns our own export writes that must not be read back as contact data (an owner's email is not the person's).
_IGNORED_HEADERS = {
    "id",
    "owner",
    "owner email",
    "owner id",
    "recruiter",
    "recruiter email",
    "created at",
    "updated at",
}
_WORD_RULES: tuple[tuple[str, frozenset[str]], ...] = (
    ("emails", frozenset({"email", "mail", "emails"})),
    ("phones", frozenset({"phone", "mobile", "cell", "tel", "telephone", "cellphone", "phones"})),
    ("links", frozenset({"linkedin", "github", "website", "url", "portfolio", "homepage", "twitter"})),
)


def _header_key(header: str) -> str:
    text = header.replace("_", " ").replace("-", " ").lower()
    return " ".join(re.findall(r"[^\W_]+", text, re.UNICODE))


def import_fields() -> list[ImportField]:
    """Every field a column can be mapped to, custom fields (as `custom_fields.<key>`) included."""
    custom = [
        ImportField(f"custom_fields.{d.key}", f"{d.label} (custom field)") for d in CustomFieldDefinition.objects.all()
    ]
    return [*BASE_FIELDS, *custom]


def suggest_mapping(headers: list[str], fields: list[ImportField] | None = None) -> dict[str, str]:
    """Guess each column's field from its header; `{"0": "first_name", "1": "", ...}` ("" means ignore)."""
    fields = fields if fields is not None else import_fields()
    known = {f.key: f for f in fields}
    exact: dict[str, str] = {}
    for f in fields:
        for name in (f.key, f.label, *_SYNONYMS.get(f.key, ())):
            exact.setdefault(_header_key(name), f.key)
    for f in fields:
        if f.key.startswith("custom_fields."):
            # A custom field named like the header beats a generic synonym ("Notice period", "Visa").
            exact[_header_key(f.key.split(".", 1)[1])] = f.key
            exact[_header_key(f.label.removesuffix(" (custom field)"))] = f.key

    suggestion: dict[str, str] = {}
    used: set[str] = set()
    for index, header in enumerate(headers):
        key = _header_key(header)
        target = ""
        if key and key not in _IGNORED_HEADERS:
            target = exact.get(key, "")
            if not target:
                words = set(key.split())
                target = next((t for t, rule in _WORD_RULES if words & rule), "")
        if target and target in known and (known[target].multiple or target not in used):
            suggestion[str(index)] = target
            used.add(target)
        else:
            suggestion[str(index)] = ""
    if {"first_name", "last_name"} & used and "full_name" in used:
        # Separate name columns are more precise than one to split.
        for index, target in suggestion.items():
            if target == "full_name":
                suggestion[index] = ""
    return suggestion


def import_mapping_clean(mapping: dict[str, Any], *, headers: list[str]) -> dict[str, str]:
    """Check a `{column index: field}` mapping against the file; raise naming the column that is wrong."""
    fields = {f.key: f for f in import_fields()}
    if not isinstance(mapping, dict):
        raise ValidationFailed.single("mapping", "Give the mapping as {column: field}.")
    cleaned: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    first_column_for: dict[str, int] = {}
    for raw_index, raw_target in mapping.items():
        try:
            index = int(raw_index)
        except (TypeError, ValueError):
            errors.setdefault("mapping", []).append(f"{raw_index!r} is not a column number.")
            continue
        if not 0 <= index < len(headers):
            errors.setdefault("mapping", []).append(f"The file has no column {index + 1}.")
            continue
        target = (raw_target or "").strip() if isinstance(raw_target, str) else ""
        if not target:
            continue
        if target not in fields:
            errors.setdefault(f"mapping.{index}", []).append(f"{target!r} is not a field people have.")
            continue
        if not fields[target].multiple and target in first_column_for:
            other = headers[first_column_for[target]]
            errors.setdefault(f"mapping.{index}", []).append(
                f"“{other}” is already mapped to {fields[target].label}; map only one column to it."
            )
            continue
        first_column_for.setdefault(target, index)
        cleaned[str(index)] = target
    if not errors and not ({"first_name", "full_name"} & set(cleaned.values())):
        errors["mapping"] = ["Map a column to First name or Full name: every person needs a first name."]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    return cleaned


# --------------------------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------------------------


@dataclass
class CsvSource:
    """A decoded CSV file: its encoding, delimiter, header and rows."""

    name: str
    text: str
    encoding: str
    delimiter: str
    headers: list[str]
    header_row: int  # spreadsheet row number of the header

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) for every non-blank row after the header."""
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter)
        try:
            for number, cells in enumerate(reader, start=1):
                if number <= self.header_row or not any(cell.strip() for cell in cells):
                    continue
                yield number, cells
        except csv.Error as exc:
            raise ValidationFailed.single("file", f"Row {reader.line_num} cannot be read as CSV: {exc}.")

    def count_rows(self) -> int:
        return sum(1 for _ in self.records())


def _read_bytes(file: Any) -> tuple[bytes, str]:
    """The raw content and the file's own name, from an upload, a stored file, a path or bytes."""
    if isinstance(file, bytes):
        return file, "upload.csv"
    if isinstance(file, str | Path):
        path = Path(file)
        try:
            size = path.stat().st_size
            _check_size(size)
            return path.read_bytes(), path.name
        except OSError as exc:
            raise ValidationFailed.single("file", f"The file cannot be read: {exc.strerror or exc}.")
    name = Path(getattr(file, "name", "") or "upload.csv").name
    try:
        size = getattr(file, "size", None)
        if size is not None:
            _check_size(size)
        if isinstance(file, FieldFile):
            with file.open("rb") as handle:
                return handle.read(), name
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read()
        if hasattr(file, "seek"):
            file.seek(0)
    except (OSError, ValueError) as exc:
        raise ValidationFailed.single("file", f"The file cannot be read: {exc}.")
    return (data.encode() if isinstance(data, str) else data), name


def _check_size(size: int) -> None:
    limit_mb = settings.RAPPORT_MAX_IMPORT_MB
    if size > limit_mb * 1024 * 1024:
        raise ValidationFailed.single(
            "file", f"The file is {size / 1024 / 1024:.1f} MB; imports are limited to {limit_mb} MB. Split it."
        )
    if size == 0:
        raise ValidationFailed.single("file", "The file is empty.")


_MAGIC_MESSAGES = (
    (b"PK\x03\x04", "This is an Excel workbook or a zip file, not CSV. In Excel, use File › Save as › CSV."),
    (b"\xd0\xcf\x11\xe0", "This is an old Excel (.xls) file, not CSV. In Excel, use File › Save as › CSV."),
    (b"%PDF", "This is a PDF, not a CSV file."),
)


def _decode(data: bytes) -> tuple[str, str]:
    for magic, message in _MAGIC_MESSAGES:
        if data.startswith(magic):
            raise ValidationFailed.single("file", message)
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise ValidationFailed.single("file", "The file says it is UTF-8 but is not; save it again as CSV UTF-8.")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise ValidationFailed.single("file", "The file says it is UTF-16 but is not; save it again as CSV UTF-8.")
    if b"\x00" in data[:8192]:
        raise ValidationFailed.single("file", "This is not a text file; upload a CSV file.")
    # UTF-8 first (what most tools write), then Windows-1252 and Latin-1 (what Excel writes on Windows):
    # Latin-1 decodes any byte, so it comes last.
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    head = text[:8192]
    controls = sum(1 for ch in head if ord(ch) < 32 and ch not in "\t\r\n")
    if head and controls / len(head) > 0.01:
        raise ValidationFailed.single("file", "This is not a text file; upload a CSV file.")
    return text, encoding


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first rows into the most, and most consistent, columns."""
    sample = text[:65536]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rfind("\n")]
    best, best_score = ",", (0.0, 0)
    for delimiter in _DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter) if any(r)][:50]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistency = round(sum(1 for r in rows if len(r) == width) / len(rows), 1)
        if (consistency, width) > best_score:
            best, best_score = delimiter, (consistency, width)
    return best


def read_csv(file: Any) -> CsvSource:
    """Open an uploaded or stored CSV: size, type and encoding checks, delimiter sniffing, the header row.

    Raises ValidationFailed on the `file` field with a message a person can act on.
    """
    return _load(file)[1]


def _load(file: Any) -> tuple[bytes, CsvSource]:
    """The file's bytes as uploaded (what we store: re-encoding could push it past the size limit) and its source."""
    data, name = _read_bytes(file)
    if not name.lower().endswith(ACCEPTED_SUFFIXES):
        suffix = Path(name).suffix or "This file"
        raise ValidationFailed.single("file", f"{suffix} files cannot be imported; upload a .csv file.")
    _check_size(len(data))
    text, encoding = _decode(data)
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers: list[str] = []
    header_row = 0
    try:
        for number, cells in enumerate(reader, start=1):
            if any(cell.strip() for cell in cells):
                headers, header_row = cells, number
                break
    except csv.Error as exc:
        raise ValidationFailed.single("file", f"The first row cannot be read as CSV: {exc}.")
    if not headers:
        raise ValidationFailed.single("file", "The file has no rows.")
    headers = [h.strip().lstrip("\ufeff").strip() or f"Column {i + 1}" for i, h in enumerate(headers)]
    return data, CsvSource(
        name=name, text=text, encoding=encoding, delimiter=delimiter, headers=headers, header_row=header_row
    )


# --------------------------------------------------------------------------------------------------------------
# From cells to validated people
# --------------------------------------------------------------------------------------------------------------

_SPLITTERS = {
    "emails": re.compile(r"[;,\s]+"),
    "phones": re.compile(r"[;,\n]+"),
    "skills": re.compile(r"[;,|\n]+"),
    "tags": re.compile(r"[;,|\n]+"),
    "links": re.compile(r"[;,\s]+"),
}
_LOCATION_FIELDS = ("city", "region", "country")
_FILLABLE_FIELDS = (
    "last_name",
    "headline",
    "current_title",
    "current_company",
    "city",
    "region",
    "country",
    "timezone",
    "language",
    "source",
    "birthday",
    "preferred_channel",
)


def _choice(value: str, choices: type[TextChoices]) -> str:
    """Accept a choice by its value or its label, in any case ("Do not contact" → do_not_contact)."""
    lowered = value.strip().lower()
    as_value = re.sub(r"[\s\-]+", "_", lowered)
    for choice_value, label in choices.choices:
        if as_value == choice_value or lowered == str(label).lower():
            return choice_value
    return value


def _split_name(value: str) -> tuple[str, str]:
    if "," in value:
        last, _, first = value.partition(",")
        return first.strip(), last.strip()
    first, _, last = value.strip().partition(" ")
    return first.strip(), last.strip()


@dataclass
class _Person:
    """One valid row, ready to write."""

    row: int
    # The person's validated values; None once they are only to be created (`_Plan.keep_fields`), since nothing
    # after validation reads them then but the name.
    fields: dict[str, Any] | None
    emails: list[str]
    phones: list[str]
    tags: list[str]
    notes: list[str]
    # The search index's text for this person, computed while validating (see `_document_text`); None where the
    # entry itself (`vector`) was.
    document: DocumentText | None = None
    # The candidate row's values (`_PERSON_COLUMNS`), database-ready, also prepared while validating.
    values: tuple | None = None
    # PostgreSQL: the search entry itself (`document_vector`), where Python can build it; prepared while validating.
    vector: str | None = None
    name: str = ""  # as `Candidate.full_name` shows it

    def __reduce__(self) -> tuple:
        # The validating process sends people by the thousand. As one tuple each, with the COPY text as a plain
        # string (a `CopyText` is rebuilt by a call per object), they cost about half as much to send and receive.
        values = self.values
        copy_text = values is not None and len(values) == 1 and type(values[0]) is CopyText
        sent = str(values[0]) if copy_text else values
        fields = (self.row, self.fields, self.emails, self.phones, self.tags, self.notes, self.document, self.vector)
        return (_received_person, (fields, self.name, sent, copy_text))


def _received_person(fields: tuple, name: str, values: Any, copy_text: bool) -> _Person:
    row, data, emails, phones, tags, notes, document, vector = fields
    return _Person(
        row, data, emails, phones, tags, notes, document, (CopyText(values),) if copy_text else values, vector, name
    )


def _issue(row: int | None, field: str, column: str, message: str, kind: str = "error", **extra: Any) -> dict:
    return {"row": row, "field": field, "column": column, "message": message, "kind": kind, **extra}


class _Plan:
    """A mapping compiled once per file: which column feeds which field."""

    def __init__(self, mapping: dict[str, str], headers: list[str], *, keep_fields: bool = True):
        # Without `keep_fields` a valid person keeps only what creating them takes: an import that skips duplicates
        # never merges a row into anyone, and its people cross from the validating process in half the time.
        self.keep_fields = keep_fields
        self.columns = sorted((int(index), target) for index, target in mapping.items() if target)
        self.headers = headers
        # Read once here, so `prepare` reads nothing from the database and can run on the reading thread.
        has_custom = any(target.startswith("custom_fields.") for _, target in self.columns)
        self.definitions = custom_field_definitions_by_key() if has_custom else {}
        self.column_of: dict[str, str] = {}
        for index, target in self.columns:
            self.column_of.setdefault(target, headers[index] if index < len(headers) else f"Column {index + 1}")
        self._row_defaults = {
            f.attname: f.get_default() for f in Candidate._meta.concrete_fields if f.attname in _PERSON_COLUMNS
        }
        self._row_values = row_converter(Candidate, _PERSON_COLUMNS, self._row_defaults)
        self.vectors = connection.vendor == "postgresql"

    def person_row(self, person: "_Person") -> tuple:
        """The candidate row's values for `person` (`_PERSON_COLUMNS`), ready for the database."""
        return self._row_values(person.fields)

    def column_for(self, field: str) -> tuple[str, str]:
        """The target field and the column header an error on `field` (as validation names it) belongs to."""
        target = field.removeprefix("location.") if field.startswith("location.") else field
        if target == "location":
            target = "city"
        column = self.column_of.get(target, "")
        if not column and target in ("first_name", "last_name"):
            column = self.column_of.get("full_name", "")
        return target, column

    def data(self, cells: list[str]) -> tuple[dict[str, Any], list[str]]:
        """The API-shaped data of one row (what `candidate_create` takes) and its notes."""
        data: dict[str, Any] = {}
        location: dict[str, str] = {}
        notes: list[str] = []
        full_name = ""
        for index, target in self.columns:
            value = cells[index].strip() if index < len(cells) else ""
            if not value:
                continue
            if target in _SPLITTERS:
                data.setdefault(target, []).extend(p.strip() for p in _SPLITTERS[target].split(value) if p.strip())
            elif target == "full_name":
                full_name = value
            elif target in _LOCATION_FIELDS:
                location[target] = value
            elif target == "note":
                notes.append(value)
            elif target.startswith("custom_fields."):
                data.setdefault("custom_fields", {})[target.split(".", 1)[1]] = value
            elif target == "relationship_status":
                data[target] = _choice(value, RelationshipStatus)
            elif target == "preferred_channel":
                data[target] = _choice(value, Channel)
            else:
                data[target] = value
        if full_name:
            first, last = _split_name(full_name)
            if not data.get("first_name"):
                data["first_name"] = first
            if not data.get("last_name") and last:
                data["last_name"] = last
        if location:
            data["location"] = location
        return data, notes

    def prepare(self, row: int, cells: list[str]) -> _Person | list[dict]:
        """A valid person, or the row's issues (every field's problem at once)."""
        data, notes = self.data(cells)
        issues: list[dict] = []
        cleaned: dict[str, Any] = {}
        try:
            cleaned = candidate_clean(data, definitions=self.definitions)
        except ValidationFailed as exc:
            for name, messages in exc.fields.items():
                target, column = self.column_for(name)
                issues.extend(_issue(row, target, column, message) for message in messages)
        for note in notes:
            if len(note) > MAX_NOTE_LENGTH:
                issues.append(
                    _issue(
                        row, "note", self.column_of.get("note", ""), f"Keep notes under {MAX_NOTE_LENGTH:,} characters."
                    )
                )
        if issues:
            return issues
        person = _Person(
            row=row,
            emails=cleaned.pop("emails", []),
            phones=cleaned.pop("phones", []),
            tags=cleaned.pop("tags", []),
            fields=cleaned,
            notes=notes,
        )
        document = _document_text(person)
        person.values = self.person_row(person)
        if self.vectors:
            person.vector = document_vector(
                document,
                country=person.fields.get("country") or "",
                status=person.fields.get("relationship_status") or self._row_defaults["relationship_status"],
            )
        # The text is only written where the entry is not (SQLite, or a document the database must build); not
        # carrying it otherwise spares the validating process sending it and this one receiving it.
        person.document = document if person.vector is None else None
        person.name = _full_name(person.fields)
        if not self.keep_fields:
            person.fields = None
        return person


def _union(first: list[str], second: list[str]) -> list[str]:
    seen = {item.lower() for item in first}
    return [*first, *(item for item in second if item.lower() not in seen)]


def _fold(into: _Person, other: _Person) -> None:
    """Fold a later row about the same person into one not yet written: blanks filled, lists combined."""
    for name, value in other.fields.items():
        current = into.fields.get(name)
        if name in ("skills", "links"):
            into.fields[name] = _union(current or [], value)
        elif name == "custom_fields":
            into.fields[name] = {**value, **(current or {})}
        elif current in (None, "") and value not in (None, ""):
            into.fields[name] = value
    into.emails = list(dict.fromkeys([*into.emails, *other.emails]))
    into.phones = list(dict.fromkeys([*into.phones, *other.phones]))
    into.tags = _union(into.tags, other.tags)
    into.notes = [*into.notes, *other.notes]
    # Computed again from the combined person when written.
    into.document = None
    into.values = None
    into.vector = None
    into.name = _full_name(into.fields)


def _full_name(fields: dict[str, Any]) -> str:
    return f"{fields.get('first_name', '')} {fields.get('last_name', '')}".strip()


# --------------------------------------------------------------------------------------------------------------
# Writing a batch
# --------------------------------------------------------------------------------------------------------------


def _audit_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


@dataclass
class _MergeTarget:
    """An existing person some rows merge into, with what they gain."""

    candidate: Candidate
    email_count: int
    phone_count: int
    tag_ids: set[int]
    changes: dict[str, list[Any]] = field(default_factory=dict)
    new_emails: list[str] = field(default_factory=list)
    new_phones: list[str] = field(default_factory=list)
    new_tags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def absorb(self, person: _Person) -> None:
        candidate = self.candidate
        for name in _FILLABLE_FIELDS:
            value = person.fields.get(name)
            if value not in (None, "") and not getattr(candidate, name):
                self._change(name, value)
        for name in ("skills", "links"):
            if person.fields.get(name):
                combined = _union(getattr(candidate, name) or [], person.fields[name])
                if combined != getattr(candidate, name):
                    self._change(name, combined)
        custom = person.fields.get("custom_fields")
        if custom:
            combined_custom = {**custom, **(candidate.custom_fields or {})}
            if combined_custom != candidate.custom_fields:
                self._change("custom_fields", combined_custom)
        status = person.fields.get("relationship_status")
        # A status only replaces the default "lead", except "do not contact", which must always be honoured.
        replaceable = candidate.relationship_status == RelationshipStatus.LEAD
        if (
            status
            and status != candidate.relationship_status
            and (replaceable or status == RelationshipStatus.DO_NOT_CONTACT)
        ):
            self._change("relationship_status", status)
        self.new_tags = _union(self.new_tags, person.tags)
        self.notes.extend(person.notes)

    def _change(self, name: str, value: Any) -> None:
        old = getattr(self.candidate, name)
        first_old = self.changes[name][0] if name in self.changes else _audit_value(old)
        self.changes[name] = [first_old, _audit_value(value)]
        setattr(self.candidate, name, value)


@dataclass
class _BatchResult:
    created: int = 0
    merged: int = 0
    skipped: int = 0
    issues: list[dict] = field(default_factory=list)
    created_rows: dict[int, int] = field(default_factory=dict)  # candidate id → row that created it
    tags: dict[str, Tag] = field(default_factory=dict)

    def add(self, other: "_BatchResult") -> None:
        self.created += other.created
        self.merged += other.merged
        self.skipped += other.skipped
        self.issues.extend(other.issues)
        self.created_rows.update(other.created_rows)
        self.tags.update(other.tags)


def _commit_without_waiting_for_disk() -> None:
    """PostgreSQL: this batch's commit returns before its WAL reaches the disk.

    A batch and the job's progress commit together, so a server crash can only lose whole last batches along with
    the progress that counted them, and the job resumes from the last batch that was kept. Nothing is half-written
    and the database stays consistent; the import no longer waits for a disk flush twenty times per 20,000 rows.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _owners(model: type, column: str, values: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    items = sorted(values)
    if connection.vendor == "postgresql":
        with bound_cursor() as cursor, connection.wrap_database_errors:
            return _owners_on(cursor, model, column, values)
    for start in range(0, len(items), _LOOKUP_CHUNK):
        chunk = items[start : start + _LOOKUP_CHUNK]
        found.update(model.objects.filter(**{f"{column}__in": chunk}).values_list(column, "candidate_id"))
    return found


# A new candidate's columns: the person's own, prepared while validating, then the three the batch sets.
_PERSON_COLUMNS = tuple(
    f.attname
    for f in Candidate._meta.concrete_fields
    if not f.primary_key and f.attname not in ("owner_id", "created_at", "updated_at")
)
_CANDIDATE_COLUMNS = (*_PERSON_COLUMNS, "owner_id", "created_at", "updated_at")


def _owners_on(cursor: Any, model: type, column: str, values: set[str]) -> dict[str, int]:
    """PostgreSQL, on a driver cursor: who holds each of these emails or phones."""
    if not values:
        return {}
    # One array parameter, bound on the server: quoting a thousand values into an IN list costs more.
    table = connection.ops.quote_name(model._meta.db_table)
    cursor.execute(f"SELECT {column}, candidate_id FROM {table} WHERE {column} = ANY(%s)", [sorted(values)])
    return dict(cursor.fetchall())


def _full_names_on(cursor: Any, ids: set[int]) -> dict[int, str]:
    """PostgreSQL, on a driver cursor: these people's names as `Candidate.full_name` shows them."""
    if not ids:
        return {}
    cursor.execute("SELECT id, first_name, last_name FROM candidates_candidate WHERE id = ANY(%s)", [sorted(ids)])
    return {pk: f"{first} {last}".strip() for pk, first, last in cursor.fetchall()}


@dataclass(frozen=True)
class _Parents:
    """The existing rows a batch's new people point at, besides themselves: the tags they get, and the users who
    act on and own them."""

    tag_ids: frozenset[int] = frozenset()
    user_ids: frozenset[int] = frozenset()


@dataclass
class _Ready:
    """A batch ready to send: its prepared inserts (None: sent already), search entries and result, the contact
    points of the people it creates (what a batch prepared ahead must treat as taken), and the rows they point at."""

    pending: list[PreparedInsert] | None
    documents: list[tuple]
    result: "_BatchResult"
    contacts: dict[str, int]
    parents: _Parents = field(default_factory=_Parents)


# The tables a batch's new people are written to, and the one insert trigger among them whose work the import does
# itself: every search entry it writes already carries its facet words (see search migration 0004).
_NEW_PEOPLE_TABLES = (
    Candidate._meta.db_table,
    CandidateEmail._meta.db_table,
    CandidatePhone._meta.db_table,
    CandidateTag._meta.db_table,
    Activity._meta.db_table,
    "search_candidate_document",
)
_TRIGGERS_THE_IMPORT_REPLACES = frozenset({"search_candidate_document_set_facets"})


def _row_checks_may_be_skipped() -> bool:
    """PostgreSQL: whether a batch may write its new people without the row-by-row foreign key checks.

    PostgreSQL checks every foreign key of every inserted row with a query of its own: ten per imported person,
    two fifths of the database's work on an import. The import knows the answer already. The new people's rows
    point at one another, all written in the batch's transaction where nobody else can see or delete them, and at
    a few tags and users, which `_parents_locked` checks and locks once per batch as those checks would have.

    Skipping them takes `session_replication_role = replica`, which a superuser may set, or a role granted
    `SET ON PARAMETER session_replication_role` (PostgreSQL 15 and later). That setting skips every ordinary
    trigger too, so it is used only while the only insert trigger on these tables is the one the import does the
    work of: anything else (an audit trigger a deployment added, say) keeps the checked path.
    """
    if connection.vendor != "postgresql":
        return False
    allowed = "current_setting('is_superuser') = 'on'"
    if connection.pg_version >= 150000:
        allowed += " OR has_parameter_privilege('session_replication_role', 'SET')"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {allowed}")
        if not cursor.fetchone()[0]:
            return False
        # tgtype bit 2: fires on INSERT; tgenabled 'D': disabled.
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' AND tgtype & 4 <> 0 "
            "AND tgrelid IN (SELECT oid FROM pg_class WHERE relname = ANY(%s) AND pg_table_is_visible(oid))",
            [list(_NEW_PEOPLE_TABLES)],
        )
        return {name for (name,) in cursor.fetchall()} <= _TRIGGERS_THE_IMPORT_REPLACES


def _parents_locked(cursor: Any, parents: _Parents) -> bool:
    """Lock the tags and users a batch points at as its foreign key checks would (against deletion until the
    batch commits); False when one of them is gone, so the batch is written with the checks, which report it."""
    tag_table = connection.ops.quote_name(Tag._meta.db_table)
    user_table = connection.ops.quote_name(User._meta.db_table)
    cursor.execute(
        f"WITH tags AS (SELECT id FROM {tag_table} WHERE id = ANY(%s) FOR KEY SHARE), "
        f"users AS (SELECT id FROM {user_table} WHERE id = ANY(%s) FOR KEY SHARE) "
        "SELECT (SELECT count(*) FROM tags), (SELECT count(*) FROM users)",
        [sorted(parents.tag_ids), sorted(parents.user_ids)],
    )
    return cursor.fetchone() == (len(parents.tag_ids), len(parents.user_ids))


class _SideConnection:
    """PostgreSQL: a second connection, in autocommit, for the reads of a batch prepared ahead."""

    def __init__(self) -> None:
        self._wrapper = connections.create_connection(DEFAULT_DB_ALIAS)

    def cursor(self) -> Any:
        self._wrapper.ensure_connection()
        return psycopg.Cursor(self._wrapper.connection)

    def close(self) -> None:
        self._wrapper.close()


_TAG_LINK_COLUMNS = ("candidate_id", "tag_id", "added_by_id", "added_at")
_ACTIVITY_COLUMNS = ("type", "candidate_id", "actor_id", "occurred_at", "payload")


def _tag_payload(tag: Tag, shared: dict[int, dict]) -> dict:
    """One payload object per tag and batch, so the insert encodes it once however many people get the tag."""
    if tag.pk not in shared:
        shared[tag.pk] = {"tag": tag.name}
    return shared[tag.pk]


def _tag_payload_json(tag: Tag, shared: dict[int, str]) -> str:
    """A "tag.added" payload as JSON, encoded once per tag and batch."""
    if tag.pk not in shared:
        shared[tag.pk] = json.dumps({"tag": tag.name})
    return shared[tag.pk]


def _finish_on_server_while(
    inserts: list[PreparedInsert],
    documents: list[tuple],
    meanwhile: Callable[[], None],
    parents: _Parents | None = None,
) -> None:
    """Send a batch's rows and index them on a helper thread, while `meanwhile` runs here.

    Those are most of the database's work for a batch (inserting into every index, building the search entries; on
    PostgreSQL also the deferred foreign-key checks COMMIT would otherwise run). The helper thread mostly waits for
    the database without the GIL (PostgreSQL's server, or SQLite's engine running one statement per table), so the
    next batch is validated on this thread at the same time. It uses this thread's connection, which does nothing
    else until it is done; errors are raised here, as Django's, so the batch's fallback sees them.

    `parents`: PostgreSQL, the inserts are new people and what they come with, written without row-by-row foreign
    key checks once these rows are locked (see `_row_checks_may_be_skipped`).
    """
    connection.ensure_connection()
    raw = connection.connection
    postgres = connection.vendor == "postgresql"
    index = search_backend.new_texts_statement(documents) if documents else None
    failure: list[BaseException] = []

    def finish_on_server() -> None:
        try:
            cursor = psycopg.Cursor(raw) if postgres else raw.cursor()
            try:
                unchecked = postgres and parents is not None and _parents_locked(cursor, parents)
                if unchecked:
                    cursor.execute("SET LOCAL session_replication_role = replica")
                for statement in inserts:
                    run_prepared(cursor, statement)
                if index is not None:
                    cursor.execute(*index)
                if unchecked:
                    cursor.execute("SET LOCAL session_replication_role = origin")
                if postgres:
                    # Checks every deferred constraint now, then defers them again for the rest of the transaction
                    # (one round trip for both).
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE; SET CONSTRAINTS ALL DEFERRED")
            finally:
                cursor.close()
        except BaseException as exc:  # noqa: BLE001 - re-raised on the importing thread below
            failure.append(exc)

    helper = threading.Thread(target=finish_on_server, name="import-writer", daemon=True)
    helper.start()
    try:
        meanwhile()
    finally:
        helper.join()
    if failure:
        with connection.wrap_database_errors:
            raise failure[0]


def _document_text(person: _Person) -> DocumentText:
    """The search index's text for a person not yet written; tag names as written index as the stored ones do,
    since the index folds case."""
    document = candidate_document(
        _Indexed(person.fields), emails=person.emails, phones=person.phones, tags=person.tags, notes=person.notes
    )
    return document_text(document)


class _Indexed:
    """What a search document reads from a person not yet written (a model instance per row costs more)."""

    __slots__ = (
        "pk",
        "full_name",
        "headline",
        "current_title",
        "current_company",
        "city",
        "region",
        "country",
        "skills",
    )

    def __init__(self, fields: dict[str, Any]):
        self.pk = 0  # the document is keyed by the id once the person is inserted
        self.full_name = f"{fields.get('first_name', '')} {fields.get('last_name', '')}".strip()
        for name in ("headline", "current_title", "current_company", "city", "region", "country"):
            setattr(self, name, fields.get(name) or "")
        self.skills = fields.get("skills") or []


class _Importer:
    """Runs one job: holds what must persist across batches (tag cache, which rows created whom)."""

    def __init__(self, job: ImportJob, plan: _Plan):
        self.job = job
        self.plan = plan
        actor = job.created_by
        self.actor: User | None = actor if actor is not None and actor.is_active else None
        self.owner_id = self.actor.pk if self.actor is not None and self.actor.has_full_access else None
        self.merge = job.on_duplicate == "merge"
        self.tags: dict[str, Tag] = {}
        self.created_rows: dict[int, int] = {}
        # PostgreSQL: the connection that prepares batches ahead (see `ready_ahead`), and the batch being sent.
        self.side: _SideConnection | None = None
        self.in_flight: _Ready | None = None
        self.skip_row_checks = _row_checks_may_be_skipped()

    # -- the batch, inside one transaction ---------------------------------------------------------------
    def write(
        self, people: list[_Person], meanwhile: Callable[[], None] | None = None, ready: "_Ready | None" = None
    ) -> _BatchResult:
        """Write one batch; `meanwhile` (pure Python, no database) runs while the server finishes the batch.

        `ready`: the batch as `ready_ahead` prepared it while the previous one was sent.
        """
        if ready is None:
            ready = self._ready(people, overlap=meanwhile is not None)
        if ready.pending is not None and meanwhile is not None:
            self.in_flight = ready
            try:
                parents = ready.parents if self.skip_row_checks else None
                _finish_on_server_while(ready.pending, ready.documents, meanwhile, parents)
            finally:
                self.in_flight = None
        else:
            search_backend.index_new_texts(ready.documents)
        return ready.result

    def _ready(self, people: list[_Person], *, overlap: bool) -> "_Ready":
        """Match a batch against the database and build everything it writes; with `overlap`, the new people's
        rows are prepared for a helper thread to send instead of being sent here."""
        result = _BatchResult()
        owners = {
            **_owners(CandidateEmail, "email", {e for p in people for e in p.emails}),
            **_owners(CandidatePhone, "phone", {p_ for p in people for p_ in p.phones}),
        }
        existing_ids = set(owners.values())
        existing = Candidate.objects.in_bulk(existing_ids) if existing_ids else {}
        # Who holds each contact point: ("db", candidate id) or ("new", index into `fresh`). A person deleted
        # between the two reads holds nothing any more.
        holder: dict[str, tuple[str, int]] = {c: ("db", cid) for c, cid in owners.items() if cid in existing}
        names = {cid: candidate.full_name for cid, candidate in existing.items()}
        fresh, targets = self._match(people, holder, names, self.created_rows, result, existing)
        if targets:
            self._load_merge_state(targets)
        now = timezone.now()
        pending: list[PreparedInsert] | None = [] if overlap else None
        created, documents, contacts, parents = self._create(fresh, now, result, pending)
        merged_ids = self._apply_merges(targets, now, result)
        if merged_ids:
            search_backend.index_documents(build_documents(merged_ids))
        result.created = len(created)
        return _Ready(pending, documents, result, contacts, parents)

    def ready_ahead(self, people: list[_Person]) -> "_Ready | None":
        """PostgreSQL: the next batch made ready while the current one is sent, or None where that is not safe.

        Runs on the importing thread while the helper holds the connection, so it reads through a second
        connection (`self.side`), which sees what is committed; the batch being sent is not, and is taken from
        memory instead. Only plain skipping is prepared ahead: no merges (they update people), no notes (written
        on the connection), no tag the import has not met (created on the connection).
        """
        sending = self.in_flight
        if self.side is None or self.merge or sending is None or not people:
            return None
        known_tags = {**self.tags, **sending.result.tags}
        if any(p.notes for p in people) or any(t.lower() not in known_tags for p in people for t in p.tags):
            return None
        result = _BatchResult(tags=dict(sending.result.tags))
        try:
            with self.side.cursor() as cursor:
                owners = {
                    **_owners_on(cursor, CandidateEmail, "email", {e for p in people for e in p.emails}),
                    **_owners_on(cursor, CandidatePhone, "phone", {p_ for p in people for p_ in p.phones}),
                }
                names = _full_names_on(cursor, set(owners.values()))
                holder: dict[str, tuple[str, int]] = {c: ("db", cid) for c, cid in owners.items() if cid in names}
                holder.update((contact, ("db", cid)) for contact, cid in sending.contacts.items())
                created_rows = {**self.created_rows, **sending.result.created_rows}
                fresh, _ = self._match(people, holder, names, created_rows, result, {})
                ids = reserve_ids(Candidate, len(fresh), raw_cursor=cursor) if fresh else []
        except DatabaseError:
            logger.warning("import %s: preparing a batch ahead failed; it is prepared in its turn", self.job.pk)
            return None
        pending: list[PreparedInsert] = []
        created, documents, contacts, parents = self._create(fresh, timezone.now(), result, pending, ids=ids)
        result.created = len(created)
        return _Ready(pending, documents, result, contacts, parents)

    def _match(
        self,
        people: list[_Person],
        holder: dict[str, tuple[str, int]],
        names: dict[int, str],
        created_rows: dict[int, int],
        result: _BatchResult,
        existing: dict[int, Candidate],
    ) -> tuple[list[_Person], dict[int, "_MergeTarget"]]:
        """Sort a batch into new people, skipped rows and merges into existing people (`holder` grows)."""
        fresh: list[_Person] = []
        targets: dict[int, _MergeTarget] = {}
        for person in people:
            contacts = [*person.emails, *person.phones]
            matched = next(((c, holder[c]) for c in contacts if c in holder), None)
            if matched is None:
                fresh.append(person)
                for contact in contacts:
                    holder[contact] = ("new", len(fresh) - 1)
                continue
            contact, (where, ref) = matched
            if not self.merge:
                result.skipped += 1
                result.issues.append(self._skip_issue(person, contact, where, ref, fresh, names, created_rows))
                continue
            result.merged += 1
            if where == "new":
                _fold(fresh[ref], person)
                for extra in contacts:
                    holder.setdefault(extra, ("new", ref))
                fresh[ref].emails = [e for e in fresh[ref].emails if holder.get(e) == ("new", ref)]
                fresh[ref].phones = [p for p in fresh[ref].phones if holder.get(p) == ("new", ref)]
                continue
            target = targets.get(ref)
            if target is None:
                target = targets[ref] = self._merge_target(existing[ref])
            target.absorb(person)
            for email in person.emails:
                if email not in holder:
                    holder[email] = ("db", ref)
                    target.new_emails.append(email)
            for phone in person.phones:
                if phone not in holder:
                    holder[phone] = ("db", ref)
                    target.new_phones.append(phone)
        return fresh, targets

    def _skip_issue(
        self,
        person: _Person,
        contact: str,
        where: str,
        ref: int,
        fresh: list[_Person],
        names: dict[int, str],
        created_rows: dict[int, int],
    ) -> dict:
        kind = "emails" if "@" in contact else "phones"
        column = self.plan.column_of.get(kind, "")
        what = "email" if kind == "emails" else "phone"
        if where == "new":
            row = fresh[ref].row
            message = f"Same {what} ({contact}) as row {row}; skipped."
            return _issue(person.row, kind, column, message, "skipped", same_as_row=row)
        if ref in created_rows:
            row = created_rows[ref]
            message = f"Same {what} ({contact}) as row {row}, already imported; skipped."
            return _issue(person.row, kind, column, message, "skipped", existing_id=ref, same_as_row=row)
        name = names.get(ref, f"#{ref}")
        message = f"{contact} already belongs to {name} (#{ref}); skipped."
        return _issue(person.row, kind, column, message, "skipped", existing_id=ref)

    def _merge_target(self, candidate: Candidate) -> _MergeTarget:
        return _MergeTarget(candidate=candidate, email_count=0, phone_count=0, tag_ids=set())

    def _load_merge_state(self, targets: dict[int, _MergeTarget]) -> None:
        ids = list(targets)
        for cid, _ in CandidateEmail.objects.filter(candidate_id__in=ids).values_list("candidate_id", "id"):
            targets[cid].email_count += 1
        for cid, _ in CandidatePhone.objects.filter(candidate_id__in=ids).values_list("candidate_id", "id"):
            targets[cid].phone_count += 1
        for cid, tag_id in CandidateTag.objects.filter(candidate_id__in=ids).values_list("candidate_id", "tag_id"):
            targets[cid].tag_ids.add(tag_id)

    def _tag_objects(self, names: set[str], result: _BatchResult) -> dict[str, Tag]:
        missing = sorted({n for n in names if n.lower() not in self.tags and n.lower() not in result.tags})
        if missing:
            # Keyed by the name as written: `_tag_objects` may answer "python" with the existing "Python".
            for name, tag in zip(missing, _tag_objects(missing), strict=True):
                result.tags[name.lower()] = tag
        return {**self.tags, **result.tags}

    def _create(
        self,
        fresh: list[_Person],
        now: Any,
        result: _BatchResult,
        pending: list[PreparedInsert] | None = None,
        ids: list[int] | None = None,
    ) -> tuple[list[int], list[tuple], dict[str, int], _Parents]:
        """Insert new people with everything they come with; returns their ids, search index rows, contacts and
        the existing rows they point at.

        With `pending`, the rows are not sent but added to it as prepared inserts, to run later, and `ids` may
        be reserved already. Every value is database-ready here: a person's own come from validation, and the
        batch's timestamp is prepared once.
        """
        if not fresh:
            return [], [], {}, _Parents()

        def insert(model: type, columns: tuple[str, ...], values: list[tuple]) -> None:
            if pending is None:
                _insert(model, columns, values, converted=True)
            elif values:
                pending.append(prepared_insert(model, columns, values, converted=True))

        stamp = db_value(Activity, "occurred_at", now)  # every timestamp column of the batch
        batch_values = (self.owner_id, stamp, stamp)
        rows = [(*(person.values or self.plan.person_row(person)), *batch_values) for person in fresh]
        if pending is None:
            ids = _insert(Candidate, _CANDIDATE_COLUMNS, rows, returning_ids=True, converted=True)
        else:
            ids = ids if ids is not None else reserve_ids(Candidate, len(rows))
            pending.append(prepared_insert(Candidate, _CANDIDATE_COLUMNS, rows, ids=ids, converted=True))
        tags = self._tag_objects({t for p in fresh for t in p.tags}, result)
        emails, phones, links, notes, activities, documents = [], [], [], [], [], []
        vectors: list[tuple[int, str]] = []
        contacts: dict[str, int] = {}
        tag_payloads: dict[int, str] = {}
        actor_id = self.actor.pk if self.actor is not None else None
        # {"source": "import", "import_id": …, "name": …} as json.dumps writes it, the name encoded per person.
        created = json.dumps({"source": "import", "import_id": self.job.pk})[:-1] + ', "name": '
        for person, cid in zip(fresh, ids, strict=True):
            result.created_rows[cid] = person.row
            contacts.update((contact, cid) for contact in (*person.emails, *person.phones))
            emails += [(cid, e, i) for i, e in enumerate(person.emails)]
            phones += [(cid, p, i) for i, p in enumerate(person.phones)]
            activities.append(("candidate.created", cid, actor_id, stamp, f"{created}{json.dumps(person.name)}}}"))
            person_tags = list({tags[t.lower()].pk: tags[t.lower()] for t in person.tags}.values())
            for tag in person_tags:
                links.append((cid, tag.pk, actor_id, stamp))
                activities.append(("tag.added", cid, actor_id, stamp, _tag_payload_json(tag, tag_payloads)))
            notes += [self._note(cid, body, now) for body in person.notes]
            if person.vector is not None:
                vectors.append((cid, person.vector))
            else:
                documents.append((cid, *(person.document or _document_text(person))))
        insert(CandidateEmail, ("candidate_id", "email", "position"), emails)
        insert(CandidatePhone, ("candidate_id", "phone", "position"), phones)
        insert(CandidateTag, _TAG_LINK_COLUMNS, links)
        # Written now even when the people are still pending: the note's id goes into its activity, and its
        # foreign key to the person is checked at the end of the transaction.
        Note.objects.bulk_create(notes)
        for note in notes:
            kind, candidate_id, author_id, _, payload = self._note_activity(note, now)
            activities.append((kind, candidate_id, author_id, stamp, json.dumps(payload)))
        insert(Activity, _ACTIVITY_COLUMNS, activities)
        if vectors:
            entries = search_backend.new_vectors_insert(vectors)
            if pending is None:
                with bound_cursor() as cursor, connection.wrap_database_errors:
                    run_prepared(cursor, entries)
            else:
                pending.append(entries)
        parents = _Parents(
            tag_ids=frozenset(tag_id for _, tag_id, _, _ in links),
            user_ids=frozenset({actor_id, self.owner_id} - {None}),
        )
        return ids, documents, contacts, parents

    def _apply_merges(self, targets: dict[int, _MergeTarget], now: Any, result: _BatchResult) -> list[int]:
        if not targets:
            return []
        tags = self._tag_objects({t for target in targets.values() for t in target.new_tags}, result)
        actor_id = self.actor.pk if self.actor is not None else None
        emails, phones, links, notes, activities, audits = [], [], [], [], [], []
        tag_payloads: dict[int, dict] = {}
        changed: list[Candidate] = []
        changed_fields: set[str] = set()
        for cid, target in targets.items():
            emails += [(cid, e, target.email_count + i) for i, e in enumerate(target.new_emails)]
            phones += [(cid, p, target.phone_count + i) for i, p in enumerate(target.new_phones)]
            added_tags = []
            for name in target.new_tags:
                tag = tags[name.lower()]
                if tag.pk not in target.tag_ids:
                    target.tag_ids.add(tag.pk)
                    added_tags.append(tag)
                    links.append((cid, tag.pk, actor_id, now))
            notes += [self._note(cid, body, now) for body in target.notes]
            changes = dict(target.changes)
            if target.new_emails:
                changes["emails"] = [None, target.new_emails]
            if target.new_phones:
                changes["phones"] = [None, target.new_phones]
            if target.changes:
                changed.append(target.candidate)
                changed_fields.update(target.changes)
            if changes:
                payload = {"fields": sorted(changes), "source": "import", "import_id": self.job.pk}
                activities.append(("candidate.updated", cid, actor_id, now, payload))
                audits.append(
                    AuditEntry(
                        actor_id=actor_id,
                        action="update",
                        object_type="candidate",
                        object_id=str(cid),
                        changes={**changes, "via": f"import #{self.job.pk}"},
                    )
                )
            activities += [("tag.added", cid, actor_id, now, _tag_payload(tag, tag_payloads)) for tag in added_tags]
            target.candidate.updated_at = now
        _insert(CandidateEmail, ("candidate_id", "email", "position"), emails)
        _insert(CandidatePhone, ("candidate_id", "phone", "position"), phones)
        _insert(CandidateTag, _TAG_LINK_COLUMNS, links)
        Note.objects.bulk_create(notes)
        activities += [self._note_activity(note, now) for note in notes]
        _insert(Activity, _ACTIVITY_COLUMNS, activities)
        AuditEntry.objects.bulk_create(audits)
        if changed:
            Candidate.objects.bulk_update(changed, [*sorted(changed_fields), "updated_at"])
        untouched = set(targets) - {c.pk for c in changed}
        if untouched:
            Candidate.objects.filter(pk__in=untouched).update(updated_at=now)
        return list(targets)

    def _note(self, candidate_id: int, body: str, now: Any) -> Note:
        return Note(
            candidate_id=candidate_id,
            author=self.actor,
            body=body,
            body_html=markdown_to_safe_html(body),
            created_at=now,
        )

    def _note_activity(self, note: Note, now: Any) -> tuple:
        payload = {"note_id": note.pk, "body": note.body[:500]}
        return ("note.added", note.candidate_id, note.author_id, now, payload)

    # -- one batch, with per-row fallback ---------------------------------------------------------------
    def run_batch(
        self,
        people: list[_Person],
        issues: list[dict],
        rows_seen: int,
        meanwhile: Callable[[], None] | None = None,
        ready: _Ready | None = None,
    ) -> bool:
        """Write a batch and save the job's progress; False when it had to be redone row by row."""
        clean = True
        try:
            with transaction.atomic():
                _commit_without_waiting_for_disk()
                result = self.write(people, meanwhile, ready)
                result.issues[:0] = issues
                self._save_progress(result, rows_seen)
        except IntegrityError:
            clean = False
            # Someone else took an email or phone between our lookup and our insert: redo the batch one row at a
            # time, each in its own savepoint, so only the rows that really clash fail.
            result = _BatchResult(issues=list(issues))
            for person in people:
                try:
                    with transaction.atomic():
                        single = self.write([person])
                except IntegrityError:
                    result.issues.append(
                        _issue(person.row, "emails", "", "Another change took this email or phone meanwhile; retry it.")
                    )
                    continue
                result.add(single)
                self.tags.update(single.tags)
                self.created_rows.update(single.created_rows)
            with transaction.atomic():
                self._save_progress(result, rows_seen)
        self.tags.update(result.tags)
        self.created_rows.update(result.created_rows)
        return clean

    def _save_progress(self, result: _BatchResult, rows_seen: int) -> None:
        job = self.job
        job.processed_rows += rows_seen
        job.created_count += result.created
        job.merged_count += result.merged
        job.skipped_count += result.skipped
        job.error_count += sum(1 for issue in result.issues if issue["kind"] == "error")
        room = MAX_STORED_ISSUES - len(job.errors)
        if room > 0 and result.issues:
            job.errors = [*job.errors, *result.issues[:room]]
        job.heartbeat_at = timezone.now()
        job.save(
            update_fields=[
                "processed_rows",
                "created_count",
                "merged_count",
                "skipped_count",
                "error_count",
                "errors",
                "heartbeat_at",
            ]
        )


# --------------------------------------------------------------------------------------------------------------
# Public services
# --------------------------------------------------------------------------------------------------------------


def import_preview(
    *, file: Any, mapping: dict[str, Any] | None = None, sample_size: int = PREVIEW_ROWS
) -> dict[str, Any]:
    """What a file holds and how it would import: headers, first rows, suggested mapping, rows as imported.

    Returns `{headers, sample_rows, suggested_mapping, mapping, rows, total_rows, encoding, delimiter, fields}`;
    each of `rows` is `{row, values: {field: text}, issues: [...], existing_id}` for the first `sample_size` rows.
    """
    source = read_csv(file)
    fields = import_fields()
    suggested = suggest_mapping(source.headers, fields)
    chosen = suggested
    if mapping is not None:
        chosen = {str(i): "" for i in range(len(source.headers))} | {
            str(k): (v or "") for k, v in mapping.items() if str(k).isdigit() and int(k) < len(source.headers)
        }
    plan = _Plan({k: v for k, v in chosen.items() if v}, source.headers)
    samples: list[tuple[int, list[str]]] = []
    total = 0
    for number, cells in source.records():
        if len(samples) < sample_size:
            samples.append((number, cells))
        total += 1
    rows = []
    for number, cells in samples:
        prepared = plan.prepare(number, cells)
        if isinstance(prepared, list):
            data, notes = plan.data(cells)
            rows.append(
                {"row": number, "values": _display_values(data, notes), "issues": prepared, "existing_id": None}
            )
            continue
        values = _display_values(
            {**prepared.fields, "emails": prepared.emails, "phones": prepared.phones, "tags": prepared.tags},
            prepared.notes,
        )
        rows.append({"row": number, "values": values, "issues": [], "existing_id": _existing_for(prepared)})
    return {
        "headers": source.headers,
        "sample_rows": [cells for _, cells in samples],
        "suggested_mapping": suggested,
        "mapping": chosen,
        "rows": rows,
        "total_rows": total,
        "encoding": source.encoding,
        "delimiter": source.delimiter,
        "fields": fields,
    }


def _display_values(data: dict[str, Any], notes: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in data.items():
        if name == "location":
            values.update({k: str(v) for k, v in value.items()})
        elif name == "custom_fields":
            values.update({f"custom_fields.{k}": str(v) for k, v in value.items()})
        elif isinstance(value, list):
            values[name] = "; ".join(str(item) for item in value)
        elif isinstance(value, date):
            values[name] = value.isoformat()
        elif value is not None:
            values[name] = str(value)
    if notes:
        values["note"] = "\n\n".join(notes)
    return values


def _existing_for(person: _Person) -> int | None:
    if person.emails:
        found = CandidateEmail.objects.filter(email__in=person.emails).values_list("candidate_id", flat=True).first()
        if found:
            return found
    if person.phones:
        return CandidatePhone.objects.filter(phone__in=person.phones).values_list("candidate_id", flat=True).first()
    return None


def import_upload_stage(*, actor: User, upload: Any) -> str:
    """Keep an upload between the upload and mapping steps; returns a token naming it."""
    ensure(actor, Capability.IMPORT)
    data, _ = _load(upload)
    _discard_stale_staged_files()
    token = secrets.token_hex(16)
    default_storage.save(f"{_STAGING_DIR}/{token}.csv", ContentFile(data))
    return token


def import_staged_file(*, token: str, name: str = "upload.csv") -> File:
    """The staged upload named by `token`, as a file `import_preview` and `import_job_create` accept."""
    if not _STAGING_TOKEN.match(token or ""):
        raise ValidationFailed.single("file", "The uploaded file has expired; upload it again.")
    path = f"{_STAGING_DIR}/{token}.csv"
    if not default_storage.exists(path):
        raise ValidationFailed.single("file", "The uploaded file has expired; upload it again.")
    with default_storage.open(path, "rb") as handle:
        data = handle.read()
    safe_name = Path(name).name or "upload.csv"
    if not safe_name.lower().endswith(ACCEPTED_SUFFIXES):
        safe_name += ".csv"
    return ContentFile(data, name=safe_name)


def import_staged_discard(*, token: str) -> None:
    if _STAGING_TOKEN.match(token or ""):
        default_storage.delete(f"{_STAGING_DIR}/{token}.csv")


def _discard_stale_staged_files(max_age_hours: int = 24) -> None:
    """Uploads abandoned at the mapping step would pile up; each new upload sweeps the old ones."""
    try:
        _, names = default_storage.listdir(_STAGING_DIR)
    except (FileNotFoundError, NotImplementedError, OSError):
        return
    cutoff = timezone.now() - timezone.timedelta(hours=max_age_hours)
    for name in names:
        path = f"{_STAGING_DIR}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
        except (OSError, NotImplementedError):
            continue


@transaction.atomic
def import_job_create(
    *, actor: User | None, upload: Any, mapping: dict[str, Any], on_duplicate: str = "skip"
) -> ImportJob:
    """Check the file and the mapping and queue the import; the worker runs it (`import_job_run`).

    `actor` None means the command line (no role check; nobody owns the people created).
    """
    if actor is not None:
        ensure(actor, Capability.IMPORT)
    if on_duplicate not in DUPLICATE_CHOICES:
        raise ValidationFailed.single("on_duplicate", "Choose skip or merge for people who already exist.")
    data, source = _load(upload)
    cleaned = import_mapping_clean(mapping, headers=source.headers)
    total = source.count_rows()
    if total == 0:
        raise ValidationFailed.single("file", "The file has a header row but no people in it.")
    job = ImportJob(
        created_by=actor if actor is not None and actor.is_authenticated else None,
        original_name=source.name[:255],
        mapping=cleaned,
        on_duplicate=on_duplicate,
        total_rows=total,
    )
    # Stored under a name of our own: a user's file name never reaches the file system.
    job.file.save(f"{uuid.uuid4().hex}.csv", ContentFile(data), save=False)
    job.save()
    return job


def _claimable(now: Any) -> Q:
    """Waiting jobs, and running jobs whose worker stopped beating (its process died mid-import)."""
    stale = now - STALE_IMPORT_AFTER
    running = Q(status=ImportStatus.RUNNING)
    return Q(status=ImportStatus.PENDING) | (running & (Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True)))


def import_job_claim(*, job_id: int) -> ImportJob | None:
    """Take a job for this process; None if another worker already has it (one UPDATE decides)."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(_claimable(now), pk=job_id).update(status=ImportStatus.RUNNING, heartbeat_at=now)
    if not claimed:
        return None
    return ImportJob.objects.select_related("created_by").get(pk=job_id)


def import_jobs_pending(limit: int = 5) -> list[int]:
    return list(
        ImportJob.objects.filter(_claimable(timezone.now()))
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def import_job_run(
    *,
    job: ImportJob,
    progress_every: int = DEFAULT_BATCH_ROWS,
    on_progress: Callable[[ImportJob], None] | None = None,
) -> ImportJob:
    """Claim and run a waiting job, `progress_every` rows per transaction, saving progress after each batch.

    Returns the job as it ended; a job another worker holds (or that has finished) is returned untouched.
    """
    claimed = import_job_claim(job_id=job.pk)
    if claimed is None:
        job.refresh_from_db()
        return job
    if connection.vendor == "sqlite":
        # A bulk write touches index pages all over each table; 64 MB of page cache (SQLite's default is 2 MB)
        # keeps them in memory instead of re-reading them for every batch.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -65536")
    job = claimed
    batch_rows = max(1, int(progress_every))
    switch_interval = sys.getswitchinterval()
    # The thread that sends a batch to PostgreSQL (see _finish_on_server_while) wakes many times per batch, each
    # time needing the GIL from this thread; at Python's default 5 ms wait each wake-up costs more than it sends.
    sys.setswitchinterval(min(switch_interval, _SWITCH_INTERVAL))
    # Each batch makes a few hundred thousand objects, so the garbage collector's full pass comes round every few
    # batches and walks every object the process holds, Django's included. What exists before the import is left
    # out of those passes until it ends (a fifth of the importing process's CPU; the validating process, forked
    # below, starts the same way). Other threads' new objects are collected as usual meanwhile.
    gc.freeze()
    importer: _Importer | None = None
    validator: _Validator | None = None
    try:
        source = read_csv(job.file)
        plan = _Plan(job.mapping, source.headers, keep_fields=job.on_duplicate == "merge")
        importer = _Importer(job, plan)
        if connection.vendor == "postgresql" and not importer.merge and not connection.in_atomic_block:
            # Only when each batch commits on its own: the second connection sees committed rows alone.
            importer.side = _SideConnection()
        already_done = job.processed_rows  # resuming a job whose earlier run stopped part-way
        rows_read = already_done
        if job.total_rows - already_done >= PARALLEL_VALIDATION_MIN_ROWS:
            validator = _Validator.start(plan)
        batches = _Lookahead(
            _prepared_batches(source, plan, skip=already_done, batch_rows=batch_rows, validator=validator)
        )
        ahead: list[_Ready | None] = []

        def meanwhile() -> None:
            # The next batch is read and validated while the server finishes this one, then made ready if it can.
            batches.read_ahead()
            upcoming = batches.peek()
            ahead.append(importer.ready_ahead(upcoming.people) if upcoming is not None else None)

        while (batch := batches.take()) is not None:
            ready = ahead.pop() if ahead else None
            if batch.seen and not importer.run_batch(batch.people, batch.issues, batch.seen, meanwhile, ready):
                # Redone row by row: the next batch was prepared against rows that may not have been written.
                ahead.clear()
            rows_read = batch.rows_read
            if batch.seen >= batch_rows and on_progress is not None:
                on_progress(job)
        if job.total_rows != max(rows_read, job.processed_rows):
            job.total_rows = max(rows_read, job.processed_rows)
        _finish(job, ImportStatus.DONE)
    except ApplicationError as exc:
        _fail(job, exc.message)
    except Exception as exc:  # noqa: BLE001 - the job must end as failed, not stay "running" forever
        logger.exception("import job %s failed", job.pk)
        _fail(
            job,
            f"The import stopped after {job.processed_rows} rows because of an internal error ({type(exc).__name__}).",
        )
    finally:
        sys.setswitchinterval(switch_interval)
        gc.unfreeze()
        if validator is not None:
            validator.close()
        if importer is not None and importer.side is not None:
            importer.side.close()
    if on_progress is not None:
        on_progress(job)
    return job


@dataclass
class _PreparedBatch:
    people: list[_Person]
    issues: list[dict]
    seen: int  # rows in this batch, valid or not
    rows_read: int  # data rows of the file read so far, skipped ones included


class _Lookahead:
    """Batches taken one at a time, the next one readable ahead of time; a reading error waits for its turn."""

    def __init__(self, batches: Iterator[_PreparedBatch]):
        self._batches = batches
        self._ahead: list[_PreparedBatch | None | BaseException] = []

    def read_ahead(self) -> None:
        if self._ahead:
            return
        try:
            self._ahead.append(next(self._batches, None))
        except Exception as exc:  # noqa: BLE001 - raised by take(), after the batch being written is saved
            self._ahead.append(exc)

    def peek(self) -> _PreparedBatch | None:
        """The batch read ahead, if one was and reading it went well."""
        item = self._ahead[0] if self._ahead else None
        return item if isinstance(item, _PreparedBatch) else None

    def take(self) -> _PreparedBatch | None:
        self.read_ahead()
        item = self._ahead.pop()
        if isinstance(item, BaseException):
            raise item
        return item


def _prepared_batches(
    source: CsvSource, plan: _Plan, *, skip: int, batch_rows: int, validator: "_Validator | None" = None
) -> Iterator[_PreparedBatch]:
    """The file's rows after the first `skip`, validated, `batch_rows` at a time (by `validator` when given)."""
    if validator is not None:
        # The pipeline starts empty: the database waits for the first batch to be validated, then the validating
        # process for the next. Small first batches get both working sooner (about a tenth of a second on 20,000
        # rows, where a 1,000-row first batch kept the database idle for a quarter of a second).
        raw = _raw_batches(source, skip=skip, batch_rows=batch_rows, first=(batch_rows // 8, batch_rows // 4))
        yield from validator.batches(raw)
        return
    raw = _raw_batches(source, skip=skip, batch_rows=batch_rows)
    for rows, rows_read in raw:
        yield _PreparedBatch(*_prepare_rows(plan, rows), len(rows), rows_read)


def _raw_batches(
    source: CsvSource, *, skip: int, batch_rows: int, first: tuple[int, ...] = ()
) -> Iterator[tuple[list[tuple[int, list[str]]], int]]:
    """The rows after the first `skip`, `batch_rows` at a time (the first batches as many as `first` says), each
    with how many data rows were read so far; the last batch may be empty."""
    sizes = [max(1, size) for size in first]
    rows: list[tuple[int, list[str]]] = []
    index = 0
    for index, record in enumerate(source.records(), start=1):
        if index <= skip:
            continue
        rows.append(record)
        if len(rows) >= (sizes[0] if sizes else batch_rows):
            yield rows, index
            rows = []
            if sizes:
                sizes.pop(0)
    yield rows, index


def _prepare_rows(plan: _Plan, rows: list[tuple[int, list[str]]]) -> tuple[list[_Person], list[dict]]:
    people: list[_Person] = []
    issues: list[dict] = []
    for number, cells in rows:
        prepared = plan.prepare(number, cells)
        if isinstance(prepared, list):
            issues.extend(prepared)
        else:
            people.append(prepared)
    return people, issues


class _Validator:
    """Validates a large file's batches in a second process while this one matches and writes.

    Validation (names, emails, phone numbers, the search text) is pure Python, about half of an import's time,
    and one process runs Python on one core at a time; a forked child takes it to the other core. The child is
    forked, not spawned, so it starts at once with the compiled plan and never touches the database: `_Plan`
    reads what it needs before the fork. Where a child process cannot be started, the file is validated here.
    """

    def __init__(self, pool: ProcessPoolExecutor):
        self._pool = pool

    @classmethod
    def start(cls, plan: _Plan) -> "_Validator | None":
        if "fork" not in multiprocessing.get_all_start_methods():
            return None
        if multiprocessing.current_process().daemon:
            # A Celery prefork worker runs tasks in daemonic processes, which may not have children. Imports
            # usually run on the uploading web process's thread instead; one that a worker picks up (its thread
            # died) is validated here.
            logger.info("import: validating in the importing process (a daemonic process has no children)")
            return None
        try:
            pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_validator_child_start,
                initargs=(plan,),
            )
            # The child is forked now, on the importing thread (whose database connection it leaves alone).
            pool.submit(_validator_child_ready).result()
        except Exception:  # noqa: BLE001 - e.g. a daemonic worker may not have children: validate here instead
            logger.warning("import: validating in the importing process (no second process)", exc_info=True)
            return None
        return cls(pool)

    def batches(self, raw: Iterator[tuple[list[tuple[int, list[str]]], int]]) -> Iterator[_PreparedBatch]:
        pending: deque[tuple[Future, int, int]] = deque()
        for rows, rows_read in raw:
            pending.append((self._pool.submit(_validator_child_prepare, rows), len(rows), rows_read))
            if len(pending) > _VALIDATED_AHEAD:
                yield self._collected(pending.popleft())
        while pending:
            yield self._collected(pending.popleft())

    @staticmethod
    def _collected(item: tuple[Future, int, int]) -> _PreparedBatch:
        future, seen, rows_read = item
        people, issues = future.result()
        return _PreparedBatch(people, issues, seen, rows_read)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


# In the validating child only: the plan it was forked with, and the parent's database connections, which came
# along with the fork. Closing those would end the parent's sessions, so they are kept, unused, until the child
# exits (multiprocessing ends it with os._exit, which runs no finalisers).
_CHILD_PLAN: _Plan | None = None
_INHERITED_CONNECTIONS: list[Any] = []


def _validator_child_start(plan: _Plan) -> None:
    global _CHILD_PLAN
    _CHILD_PLAN = plan
    for wrapper in connections.all(initialized_only=True):
        _INHERITED_CONNECTIONS.append(wrapper.connection)
        wrapper.connection = None
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    # The pool's queue never reports a killed parent to a waiting child (the child holds the queue's write end
    # too), so without this a parent killed mid-import would leave its validator waiting forever.
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _validator_child_ready() -> bool:
    return _CHILD_PLAN is not None


def _validator_child_prepare(rows: list[tuple[int, list[str]]]) -> tuple[list[_Person], list[dict]]:
    assert _CHILD_PLAN is not None, "the validating process starts with its plan"
    return _prepare_rows(_CHILD_PLAN, rows)


def _fail(job: ImportJob, message: str) -> None:
    job.refresh_from_db(
        fields=["processed_rows", "created_count", "merged_count", "skipped_count", "error_count", "errors"]
    )
    job.errors = [*job.errors, _issue(None, "file", "", message)][: MAX_STORED_ISSUES + 1]
    job.error_count += 1
    _finish(job, ImportStatus.FAILED)


@transaction.atomic
def _finish(job: ImportJob, status: str) -> None:
    job.status = status
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "finished_at", "total_rows", "errors", "error_count"])
    audit_record(
        actor=job.created_by,
        action="import",
        object_type="import_job",
        object_id=job.pk,
        changes={
            "file": job.original_name,
            "status": status,
            "rows": job.total_rows,
            "created": job.created_count,
            "merged": job.merged_count,
            "skipped": job.skipped_count,
            "errors": job.error_count,
            "on_duplicate": job.on_duplicate,
        },
    )


def import_error_report_lines(*, job: ImportJob) -> Iterator[str]:
    """The job's issues (errors and skipped duplicates) as CSV lines, for the "download error report" link."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line(["row", "outcome", "column", "field", "message", "existing_person_id"])
    for issue in job.errors:
        yield line(
            [
                issue.get("row") or "",
                issue.get("kind", "error"),
                _safe_cell(issue.get("column", "")),
                issue.get("field", ""),
                _safe_cell(issue.get("message", "")),
                issue.get("existing_id") or "",
            ]
        )


def _safe_cell(value: Any) -> str:
    return spreadsheet_safe(str(value or ""))


# --------------------------------------------------------------------------------------------------------------
# Benchmark entry point (`make bench`)
# --------------------------------------------------------------------------------------------------------------

_BENCH_FIRST = ["Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Edsger", "Frances", "Donald"]
_BENCH_LAST = ["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov", "Dijkstra", "Allen"]
_BENCH_SKILLS = ["python", "go", "rust", "sql", "kubernetes", "react", "django", "aws", "terraform", "java"]
_BENCH_CITIES = [("Berlin", "DE"), ("London", "GB"), ("Paris", "FR"), ("Austin", "US"), ("Toronto", "CA")]


def bench_csv(rows: int, *, run: str | None = None, duplicate_every: int = 50) -> bytes:
    """A realistic import file: names, email, phone, title, company, location, skills, tags; some repeats."""
    run = run or secrets.token_hex(3)
    run_digits = int(run, 16) % 1000
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = ["First name", "Last name", "E-mail", "Mobile", "Job title", "Company", "City", "Country", "Skills"]
    writer.writerow([*header, "Tags", "Source"])
    for i in range(rows):
        n = i - 1 if duplicate_every and i and i % duplicate_every == 0 else i
        city, country = _BENCH_CITIES[n % len(_BENCH_CITIES)]
        writer.writerow(
            [
                _BENCH_FIRST[n % len(_BENCH_FIRST)],
                _BENCH_LAST[(n * 7 + n // 10) % len(_BENCH_LAST)],
                f"person{n}.{run}@bench.example.org",
                f"+44 7{run_digits:03d} {n:06d}",
                "Software Engineer",
                f"Company {n % 500}",
                city,
                country,
                ", ".join(_BENCH_SKILLS[(n + k) % len(_BENCH_SKILLS)] for k in range(3)),
                "imported; bench",
                "referral",
            ]
        )
    return buffer.getvalue().encode("utf-8")


def bench_import(rows: int) -> float:
    """Import `rows` generated people into the configured database; returns rows per second (dedupe included)."""
    data = bench_csv(rows)
    upload = ContentFile(data, name="bench.csv")
    source = read_csv(upload)
    job = import_job_create(actor=None, upload=upload, mapping=suggest_mapping(source.headers), on_duplicate="skip")
    started = time.perf_counter()
    job = import_job_run(job=job)
    elapsed = time.perf_counter() - started
    job.file.delete(save=False)
    if job.status != ImportStatus.DONE:
        raise RuntimeError(f"bench import failed: {job.errors[-1:]}")
    return rows / elapsed


def bench_import_naive(rows: int) -> float:
    """The same file through `candidate_create` row by row, for the ratio the benchmark reports."""
    from rapport.candidates.services import candidate_create
    from rapport.common.errors import Duplicate

    source = read_csv(ContentFile(bench_csv(rows), name="bench.csv"))
    plan = _Plan(suggest_mapping(source.headers), source.headers)
    started = time.perf_counter()
    for _, cells in source.records():
        data, _ = plan.data(cells)
        try:
            candidate_create(actor=None, data=data)
        except (Duplicate, ValidationFailed):
            continue
    return rows / (time.perf_counter() - started)
