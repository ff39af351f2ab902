from django.conf import settings
from django.db import models
from django.db.models.functions import ExtractDay, ExtractMonth
from django.utils import timezone as dj_timezone


class RelationshipStatus(models.TextChoices):
    LEAD = "lead", "Lead"
    CONTACTED = "contacted", "Contacted"
    ENGAGED = "engaged", "Engaged"
    NURTURING = "nurturing", "Nurturing"
    APPLICANT = "applicant", "Applicant"
    HIRED = "hired", "Hired"
    ALUMNI = "alumni", "Alumni"
    DO_NOT_CONTACT = "do_not_contact", "Do not contact"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    PHONE = "phone", "Phone"


class Candidate(models.Model):
    """A person, kept for the whole relationship; applications come and go beneath it."""

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    headline = models.CharField(max_length=200, blank=True)
    current_title = models.CharField(max_length=150, blank=True)
    current_company = models.CharField(max_length=150, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True)  # ISO 3166-1 alpha-2
    timezone = models.CharField(max_length=64, blank=True)
    language = models.CharField(max_length=10, blank=True)
    skills = models.JSONField(default=list, blank=True)
    links = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=50, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_candidates",
        db_index=False,  # candidate_owner (owner, -id) leads with it
    )
    relationship_status = models.CharField(
        max_length=20, choices=RelationshipStatus.choices, default=RelationshipStatus.LEAD
    )
    birthday = models.DateField(null=True, blank=True)
    preferred_channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    custom_fields = models.JSONField(default=dict, blank=True)
    engagement_score = models.PositiveSmallIntegerField(default=0)
    # The decaying sum behind the score, as of engagement_at (see rapport/candidates/engagement.py). A database
    # default, so bulk inserts that name only the score (the demo seeder) still work.
    engagement_raw = models.FloatField(default=0.0, db_default=0.0)
    engagement_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)
    updated_at = models.DateTimeField(default=dj_timezone.now)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="candidate_name"),
            models.Index(fields=["relationship_status", "-id"], name="candidate_status"),
            models.Index(fields=["source", "-id"], name="candidate_source"),
            models.Index(fields=["country", "-id"], name="candidate_country"),
            models.Index(fields=["owner", "-id"], name="candidate_owner"),
            models.Index(fields=["-updated_at", "-id"], name="candidate_updated"),
            models.Index(fields=["-created_at", "-id"], name="candidate_created"),
            models.Index(fields=["-engagement_score", "-id"], name="candidate_engagement"),
            # Birthday greetings look people up by (month, day), so a day's check reads only that day's birthdays.
            models.Index(
                ExtractMonth("birthday"),
                ExtractDay("birthday"),
                name="candidate_birthday_md",
                condition=models.Q(birthday__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def initials(self) -> str:
        return ((self.first_name[:1] or "") + (self.last_name[:1] or "")).upper() or "?"


# Contact points, tag links and timeline events are inserted by the hundred thousand (imports, seeding), and every
# index is paid on each insert: no single-column index where a composite one leads with the column, uniqueness as
# a constraint (a unique field would also get a LIKE-pattern index on PostgreSQL, which nothing queries), and
# optional references indexed only where they are set.


class CandidateEmail(models.Model):
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="emails", db_index=False)
    email = models.CharField(max_length=254)  # lower-cased and validated by the service; unique (see Meta)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["email"], name="candidate_email_unique")]
        indexes = [models.Index(fields=["candidate", "position"], name="email_candidate")]


class CandidatePhone(models.Model):
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="phones", db_index=False)
    phone = models.CharField(max_length=20)  # E.164; unique (see Meta)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["phone"], name="candidate_phone_unique")]
        indexes = [models.Index(fields=["candidate", "position"], name="phone_candidate")]


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CandidateTag(models.Model):
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="candidate_tags", db_index=False)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="candidate_tags", db_index=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    added_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["candidate", "tag"], name="candidate_tag_unique")]
        indexes = [
            models.Index(fields=["tag", "candidate"], name="tag_candidate"),
            models.Index(fields=["added_by"], name="tag_added_by", condition=models.Q(added_by__isnull=False)),
        ]


class TalentPool(models.Model):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PoolMembership(models.Model):
    pool = models.ForeignKey(TalentPool, on_delete=models.CASCADE, related_name="memberships")
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="pool_memberships")
    reason = models.CharField(max_length=300, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pool", "candidate"], name="pool_member_unique")]
        indexes = [models.Index(fields=["candidate"], name="pool_member_candidate")]


class Segment(models.Model):
    """A saved filter; its members are computed when asked. A persona is a segment with a description."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    filters = models.JSONField(default=dict)
    is_persona = models.BooleanField(default=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CustomFieldType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    BOOLEAN = "boolean", "Yes / no"
    CHOICE = "choice", "Choice"
    URL = "url", "Link"


class CustomFieldDefinition(models.Model):
    key = models.SlugField(max_length=50, unique=True)
    label = models.CharField(max_length=100)
    field_type = models.CharField(max_length=10, choices=CustomFieldType.choices, default=CustomFieldType.TEXT)
    choices = models.JSONField(default=list, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label


class AttachmentKind(models.TextChoices):
    RESUME = "resume", "Résumé"
    COVER_LETTER = "cover_letter", "Cover letter"
    OTHER = "other", "Other"


class Attachment(models.Model):
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=AttachmentKind.choices, default=AttachmentKind.OTHER)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering = ["-uploaded_at"]


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Waiting to start"
    RUNNING = "running", "Importing"
    DONE = "done", "Finished"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    mapping = models.JSONField(default=dict, blank=True)
    on_duplicate = models.CharField(max_length=10, default="skip")  # skip | merge
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    merged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row": n, "field": f, "message": m}]
    created_at = models.DateTimeField(default=dj_timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written when a worker claims the job and after every batch: a running job whose heartbeat stops is one whose
    # process died, and another worker takes it over from the last committed batch.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    @property
    def percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
