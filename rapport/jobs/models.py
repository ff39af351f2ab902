from django.conf import settings
from django.db import models
from django.utils import timezone


class StageCategory(models.TextChoices):
    SOURCED = "sourced", "Sourced"
    APPLIED = "applied", "Applied"
    SCREENING = "screening", "Screening"
    INTERVIEW = "interview", "Interview"
    OFFER = "offer", "Offer"
    HIRED = "hired", "Hired"


class Client(models.Model):
    """An agency's client; jobs may belong to one."""

    name = models.CharField(max_length=150, unique=True)
    website = models.URLField(blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StageTemplate(models.Model):
    """The organisation's default pipeline, copied into every new job."""

    name = models.CharField(max_length=60)
    position = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=20, choices=StageCategory.choices)
    # Copied into each new job's stage, so jobs start with the organisation's contextual messages.
    default_template = models.ForeignKey(
        "messaging.MessageTemplate", null=True, blank=True, on_delete=models.SET_NULL, related_name="stage_templates"
    )

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name


class JobStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    ON_HOLD = "on_hold", "On hold"
    CLOSED = "closed", "Closed"
    FILLED = "filled", "Filled"


class WorkplaceType(models.TextChoices):
    ONSITE = "onsite", "On-site"
    HYBRID = "hybrid", "Hybrid"
    REMOTE = "remote", "Remote"


class EmploymentType(models.TextChoices):
    FULL_TIME = "full_time", "Full-time"
    PART_TIME = "part_time", "Part-time"
    CONTRACT = "contract", "Contract"
    TEMPORARY = "temporary", "Temporary"
    INTERNSHIP = "internship", "Internship"


class Job(models.Model):
    title = models.CharField(max_length=150)
    department = models.CharField(max_length=100, blank=True)
    location = models.CharField(max_length=150, blank=True)
    workplace_type = models.CharField(max_length=10, choices=WorkplaceType.choices, default=WorkplaceType.ONSITE)
    employment_type = models.CharField(max_length=12, choices=EmploymentType.choices, default=EmploymentType.FULL_TIME)
    description = models.TextField(blank=True)
    hiring_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_jobs",
    )
    recruiter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recruited_jobs",
    )
    openings = models.PositiveSmallIntegerField(default=1)
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.PROTECT, related_name="jobs")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.DRAFT)
    opened_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["status", "-id"], name="job_status"),
            models.Index(fields=["hiring_manager"], name="job_hiring_manager"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def workplace_label(self) -> str:
        """ "Remote", "Hybrid" or "On-site", or nothing when the location already says it ("Remote, EU")."""
        label = self.get_workplace_type_display()
        return "" if label.lower() in self.location.lower() else label


class Stage(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=60)
    position = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=20, choices=StageCategory.choices)
    # The message suggested when someone enters this stage ("contextual communication").
    default_template = models.ForeignKey(
        "messaging.MessageTemplate", null=True, blank=True, on_delete=models.SET_NULL, related_name="stages"
    )
    # What candidates see in the portal for this stage; blank means the wording for its category.
    public_label = models.CharField(max_length=60, blank=True, default="")

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["job", "position"], name="stage_job_position")]

    def __str__(self) -> str:
        return self.name
