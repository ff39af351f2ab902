"""The one way an uploaded file becomes a person's attachment: size, type by contents, the stored file and the row."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rapport.candidates.models import Attachment, AttachmentKind, Candidate
from rapport.candidates.services import attachment_add
from rapport.candidates.uploads import DOCX, JPEG, PDF, PNG, UploadRule, attachment_store, upload_type
from rapport.common.errors import ValidationFailed
from tests.careers.conftest import TINY_PDF, tiny_docx
from tests.factories import make_candidate

pytestmark = pytest.mark.django_db

RULE = UploadRule(
    types={"pdf": PDF, "docx": DOCX, "jpeg": JPEG, "png": PNG}, field="file", refusal="Upload a PDF or an image."
)
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media) -> list[Path]:
    return [path for path in Path(media).rglob("*") if path.is_file()]


def test_the_type_comes_from_the_contents_and_names_the_stored_file(media, recruiter):
    person = make_candidate(actor=recruiter)

    attachment = attachment_store(
        candidate=person,
        upload=SimpleUploadedFile("scan.pdf", PNG_BYTES),
        rule=RULE,
        kind=AttachmentKind.OTHER,
        uploaded_by=None,
    )

    assert (attachment.original_name, attachment.content_type) == ("scan.png", "image/png")
    assert attachment.size == len(PNG_BYTES)
    assert attachment.file.read() == PNG_BYTES
    assert len(stored_files(media)) == 1


@pytest.mark.parametrize(
    ("content", "type_name"),
    [(TINY_PDF, "pdf"), (tiny_docx(), "docx"), (b"\xff\xd8\xff\xe0" + b"\x00" * 16, "jpeg"), (PNG_BYTES, "png")],
)
def test_each_accepted_type_is_recognised(content, type_name):
    assert upload_type(SimpleUploadedFile("whatever.bin", content), rule=RULE) == type_name


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"PK\x03\x04 a zip that is not one", "Upload a PDF or an image."),
        (b"MZ\x90\x00 a program", "Upload a PDF or an image."),
    ],
)
def test_refusals_name_the_rules_field_and_store_nothing(media, recruiter, content, message):
    person = make_candidate(actor=recruiter)

    with pytest.raises(ValidationFailed) as caught:
        attachment_store(
            candidate=person,
            upload=SimpleUploadedFile("file.pdf", content),
            rule=RULE,
            kind=AttachmentKind.OTHER,
            uploaded_by=None,
        )

    assert caught.value.fields == {"file": [message]}
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_a_file_over_the_limit_is_refused(settings):
    settings.RAPPORT_MAX_UPLOAD_MB = 1
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (1024 * 1024))

    with pytest.raises(ValidationFailed) as caught:
        upload_type(big, rule=RULE)

    assert caught.value.fields == {"file": ["The file is 1.0 MB; the limit is 1 MB."]}


def test_when_the_row_cannot_be_written_the_file_is_removed(media):
    unsaved = Candidate(first_name="Nobody")

    with pytest.raises(ValueError):
        attachment_store(
            candidate=unsaved,
            upload=SimpleUploadedFile("cv.pdf", TINY_PDF),
            rule=RULE,
            kind=AttachmentKind.RESUME,
            uploaded_by=None,
        )

    assert stored_files(media) == []


def test_the_profile_upload_keeps_its_name_and_trusts_the_ending_only_with_matching_contents(media, recruiter):
    person = make_candidate(actor=recruiter)

    notes = attachment_add(
        actor=recruiter, candidate=person, upload=SimpleUploadedFile("Notes 2026.txt", b"plain words")
    )
    with pytest.raises(ValidationFailed) as caught:
        attachment_add(actor=recruiter, candidate=person, upload=SimpleUploadedFile("cv.pdf", PNG_BYTES))

    assert (notes.original_name, notes.content_type, notes.uploaded_by) == ("Notes 2026.txt", "text/plain", recruiter)
    assert caught.value.fields == {"file": ["The file's contents are not a real .pdf file."]}
    assert Attachment.objects.count() == 1
