"""Career site tests: open and closed jobs, real résumé files built in memory, and fresh rate-limit counters."""

import io
import zipfile

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import make_job
from tests.messaging.conftest import make_template, smtp_server  # noqa: F401

# A small PDF of one empty page.
TINY_PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n164\n%%EOF\n"
)


def tiny_docx() -> bytes:
    """A minimal Word document: the content types, the package relationship and word/document.xml."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="word/document.xml"/></Relationships>',
        )
        archive.writestr(
            "word/document.xml",
            '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            "<w:body><w:p><w:r><w:t>Ada Lovelace</w:t></w:r></w:p></w:body></w:document>",
        )
    return buffer.getvalue()


def pdf_upload(name: str = "cv.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, TINY_PDF, content_type="application/pdf")


def docx_upload(name: str = "cv.docx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, tiny_docx(), content_type="application/octet-stream")


@pytest.fixture(autouse=True)
def _fresh_rate_limit_counters(settings):
    # Counters live in the cache, which outlives each test's database transaction. Without Redis the default cache
    # is a directory that every test run on this machine shares (and clears), so each test gets its own instead.
    if "filebased" in settings.CACHES["default"]["BACKEND"]:
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "careers-tests"}
        }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def open_job(recruiter):
    return make_job(
        actor=recruiter,
        title="Senior Backend Engineer",
        department="Engineering",
        location="Berlin",
        workplace_type="hybrid",
        employment_type="full_time",
        description="## What you will do\n\nBuild **APIs**.\n\n<script>alert(1)</script>",
    )


@pytest.fixture
def remote_job(recruiter):
    return make_job(
        actor=recruiter,
        title="Product Designer",
        department="Design",
        location="Germany",
        workplace_type="remote",
        employment_type="contract",
        description="Design things.",
    )


@pytest.fixture
def draft_job(recruiter):
    return make_job(actor=recruiter, title="Secret Future Role", status="draft", description="Internal only")


@pytest.fixture
def closed_job(recruiter):
    return make_job(actor=recruiter, title="Old Closed Role", status="closed")
