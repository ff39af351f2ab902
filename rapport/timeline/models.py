from django.conf import settings
from django.db import models


class Activity(models.Model):
    """One event on the log: the UI timeline, automation, webhooks and analytics all read this stream.

    The id is monotonic, so consumers can resume from the last id they processed.
    """

    type = models.CharField(max_length=64)
    # No single-column indexes on these two: the composite indexes below lead with them, and every index is paid
    # on each of the millions of inserts (imports, seeding, sends).
    candidate = models.ForeignKey(
        "candidates.Candidate",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
        db_index=False,
    )
    application = models.ForeignKey(
        "pipeline.Application",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
        db_index=False,
    )
    # Indexed only where set (see Meta): most events have no job, and imported or automated ones no actor.
    job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    occurred_at = models.DateTimeField()
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["candidate", "-occurred_at", "-id"], name="activity_candidate_time"),
            models.Index(fields=["type", "occurred_at"], name="activity_type_time"),
            models.Index(
                fields=["application", "occurred_at"],
                name="activity_application_time",
                condition=models.Q(application__isnull=False),
            ),
            models.Index(fields=["job"], name="activity_job", condition=models.Q(job__isnull=False)),
            models.Index(fields=["actor"], name="activity_actor", condition=models.Q(actor__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"


class NoteKind(models.TextChoices):
    NOTE = "note", "Note"
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"


class Note(models.Model):
    """A note, a logged call or a logged meeting; its body is searchable."""

    candidate = models.ForeignKey("candidates.Candidate", on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=10, choices=NoteKind.choices, default=NoteKind.NOTE)
    body = models.TextField()
    body_html = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["candidate", "-created_at"], name="note_candidate_time")]


class AuditEntry(models.Model):
    """Who changed which field from what to what, and who exported what."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=20)  # create, update, delete, merge, erase, export
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=40, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["object_type", "object_id", "-at"], name="audit_object"),
            models.Index(fields=["-at"], name="audit_time"),
        ]
