from django.conf import settings
from django.db import models
from django.utils import timezone


class PortalToken(models.Model):
    """One emailed sign-in link: only its SHA-256 is stored, so a database leak signs nobody in.

    A row is single-use (`used_at`) and short-lived (`expires_at`). Signed links in templated messages are
    stateless; when one is used, a row with its hash and `used_at` set is written, which makes it single-use too.
    """

    candidate = models.ForeignKey("candidates.Candidate", on_delete=models.CASCADE, related_name="portal_tokens")
    token_hash = models.CharField(max_length=64)  # unique: see Meta
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token_hash"], name="portal_token_hash_unique")]
        indexes = [models.Index(fields=["candidate", "-created_at"], name="portal_token_candidate")]

    def __str__(self) -> str:
        return f"Portal sign-in for candidate {self.candidate_id}"


class DocumentRequestStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    RECEIVED = "received", "Received"


class DocumentRequest(models.Model):
    """A document the team asked a person for; the person uploads it in the portal, where it becomes an attachment."""

    candidate = models.ForeignKey("candidates.Candidate", on_delete=models.CASCADE, related_name="document_requests")
    application = models.ForeignKey(
        "pipeline.Application", null=True, blank=True, on_delete=models.SET_NULL, related_name="document_requests"
    )
    name = models.CharField(max_length=120)
    instructions = models.TextField(blank=True)
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=DocumentRequestStatus.choices, default=DocumentRequestStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    attachment = models.ForeignKey(
        "candidates.Attachment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["candidate", "-requested_at"], name="document_request_candidate")]

    def __str__(self) -> str:
        return f"{self.name} from candidate {self.candidate_id}"


class SharedFeedback(models.Model):
    """Feedback a recruiter chose to share with the person on one application; the only feedback the portal shows.

    A row of its own rather than a flag on notes: nothing written for the team can reach the person by mistake.
    """

    application = models.ForeignKey("pipeline.Application", on_delete=models.CASCADE, related_name="shared_feedback")
    text = models.TextField()
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["application", "-shared_at"], name="shared_feedback_application")]

    def __str__(self) -> str:
        return f"Feedback on application {self.application_id}"


class PortalPreferences(models.Model):
    """What a person set in the portal beyond their record's own fields: quiet hours, in their time zone, and how
    many newsletters and automatic messages a week they want at most.

    Both ends are set or neither is; none means the installation's quiet hours apply.
    """

    candidate = models.OneToOneField(
        "candidates.Candidate", on_delete=models.CASCADE, related_name="portal_preferences"
    )
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    # At most this many newsletters and automatic messages a week; none means the installation's own cap.
    max_per_week = models.PositiveSmallIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Portal preferences of candidate {self.candidate_id}"
