from django.conf import settings
from django.db import models
from django.utils import timezone


class RejectionReason(models.Model):
    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class ApplicationStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    HIRED = "hired", "Hired"


class Application(models.Model):
    candidate = models.ForeignKey("candidates.Candidate", on_delete=models.CASCADE, related_name="applications")
    job = models.ForeignKey("jobs.Job", on_delete=models.CASCADE, related_name="applications")
    stage = models.ForeignKey("jobs.Stage", on_delete=models.PROTECT, related_name="applications")
    source = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.ACTIVE)
    rejection_reason = models.ForeignKey(
        RejectionReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejection_note = models.TextField(blank=True)
    stage_entered_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Interviewers see only the people they are assigned to; the interviews feature fills this in.
    interviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="assigned_applications")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["candidate", "job"], name="application_unique_pair")]
        indexes = [
            models.Index(fields=["job", "status", "stage"], name="application_job_stage"),
            models.Index(fields=["candidate", "-created_at"], name="application_candidate"),
        ]


class StageTransition(models.Model):
    """The full stage history, so time in stage and conversion can be computed."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="transitions")
    from_stage = models.ForeignKey("jobs.Stage", null=True, on_delete=models.SET_NULL, related_name="+")
    to_stage = models.ForeignKey("jobs.Stage", null=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["application", "at"], name="transition_application"),
            models.Index(fields=["to_stage", "at"], name="transition_stage"),
        ]
