"""Keeping an uploaded file as a person's attachment: the size limit, what the file really is, the file and its row.

The team's upload on a profile, the résumé sent with an application and a document sent through the portal each
say which types they take, which field their errors are reported on and how a refusal reads; the checks and the
storing are done here once, so the three cannot drift apart. Callers check who may upload and write the timeline.
"""

import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from rapport.accounts.models import User
from rapport.candidates.models import Attachment, Candidate
from rapport.common.errors import ValidationFailed

# Enough of the file's start for every signature below.
HEAD_BYTES = 8


@dataclass(frozen=True)
class FileType:
    """A kind of file we keep: its content type, the ending its stored name gets, and how its contents begin."""

    content_type: str
    suffix: str
    # The first bytes of every such file; empty for formats that have none (plain text), which then always match.
    signature: bytes = b""
    # For zip-based formats: a member the archive must hold, because a bare "PK" is any zip file.
    zip_member: str = ""

    def matches(self, upload: UploadedFile, head: bytes) -> bool:
        if not head.startswith(self.signature):
            return False
        if not self.zip_member:
            return True
        try:
            with zipfile.ZipFile(upload) as archive:
                return self.zip_member in archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return False
        finally:
            upload.seek(0)


PDF = FileType("application/pdf", ".pdf", b"%PDF-")
DOCX = FileType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx", b"PK", "word/document.xml"
)
JPEG = FileType("image/jpeg", ".jpg", b"\xff\xd8\xff")
PNG = FileType("image/png", ".png", b"\x89PNG\r\n\x1a\n")


@dataclass(frozen=True)
class UploadRule:
    """What one place accepts: its types by name, the field errors are reported on, and the refusal's words."""

    types: Mapping[str, FileType]
    field: str
    refusal: str


def upload_type(upload: UploadedFile, *, rule: UploadRule) -> str:
    """The name (in `rule.types`) of what the file is, judged by its size and contents, never its name.

    Raises ValidationFailed on `rule.field`: empty, over RAPPORT_MAX_UPLOAD_MB, or none of the accepted types.
    """
    max_mb = settings.RAPPORT_MAX_UPLOAD_MB
    if upload.size == 0:
        raise ValidationFailed.single(rule.field, "The file is empty.")
    if upload.size > max_mb * 1024 * 1024:
        raise ValidationFailed.single(
            rule.field, f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is {max_mb} MB."
        )
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    for name, file_type in rule.types.items():
        if file_type.matches(upload, head):
            return name
    raise ValidationFailed.single(rule.field, rule.refusal)


@transaction.atomic
def attachment_store(
    *,
    candidate: Candidate,
    upload: UploadedFile,
    rule: UploadRule,
    kind: str,
    uploaded_by: User | None,
    name: str | None = None,
    default_stem: str = "document",
) -> Attachment:
    """Check the upload against `rule`, store the file and add its Attachment row; raises ValidationFailed.

    The stored name is `name` when given, else the upload's own name with the ending of what the file really is
    (`default_stem` when it has none). The checks run here even when the caller already ran them, so nothing
    unchecked is ever kept.
    """
    file_type = rule.types[upload_type(upload, rule=rule)]
    if name is None:
        stem = Path(upload.name or default_stem).stem[:200] or default_stem
        name = f"{stem}{file_type.suffix}"
    attachment = Attachment(
        candidate=candidate,
        original_name=name,
        content_type=file_type.content_type,
        size=upload.size,
        kind=kind,
        uploaded_by=uploaded_by,
    )
    attachment.file.save(name, upload, save=False)
    try:
        attachment.save()
    except Exception:
        # The row failed, so the file on disk would belong to nothing.
        attachment.file.delete(save=False)
        raise
    return attachment
