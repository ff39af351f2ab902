from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone as dj_timezone


class Follow(models.Model):
    """A user asking to hear about a person's engagement, as their owner does."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    candidate = models.ForeignKey("candidates.Candidate", on_delete=models.CASCADE, related_name="follows")
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "candidate"], name="follow_user_candidate")]
        indexes = [models.Index(fields=["candidate"], name="follow_candidate")]


class NotificationKind(models.TextChoices):
    REPLIED = "message.received", "Replied"
    CLICKED = "message.clicked", "Clicked a link"
    OPENED = "message.opened", "Opened an email"
    PORTAL_VISITED = "portal.visited", "Visited the portal"


class Notification(models.Model):
    """One thing a user should know about a person they own or follow, made from one timeline event."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    candidate = models.ForeignKey("candidates.Candidate", on_delete=models.CASCADE, related_name="+")
    activity = models.ForeignKey("timeline.Activity", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=64, choices=NotificationKind.choices)
    text = models.CharField(max_length=300)
    # What makes two events one notification for a user: the activity itself, or for clicks and opens the message,
    # so a link clicked five times is one notification. Unique per user, which also makes creating them idempotent.
    dedupe_key = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=dj_timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_user_key")]
        indexes = [
            models.Index(fields=["user", "-id"], name="notification_user"),
            models.Index(fields=["user", "-id"], name="notification_unread", condition=Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class NotificationPreference(models.Model):
    """A user's notification settings; a user without a row has the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    daily_digest = models.BooleanField(default=False)
    notify_opens = models.BooleanField(default=False)
    last_digest_at = models.DateTimeField(null=True, blank=True)


class TimelineCursor(models.Model):
    """How far a consumer of the timeline has read: the id of the last activity it handled."""

    name = models.CharField(max_length=50, unique=True)
    last_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=dj_timezone.now)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_id}"
