from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class TaskSource(models.TextChoices):
    """Who made the task: a person by hand, or a sequence step or trigger (`source_id` names which one)."""

    MANUAL = "manual", "Manual"
    SEQUENCE = "sequence", "Sequence"
    TRIGGER = "trigger", "Trigger"


class Task(models.Model):
    """A recruiter's to-do: what to do, by when, for whom, and about which person or job.

    `due_at` is the moment the task becomes overdue. A task given only a day (`due_all_day`) is due at the end of
    that day in the organisation's time zone, so "overdue" is one comparison with now and one index serves both
    kinds; `due_all_day` only tells the page to show the day without a time.
    """

    title = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    due_all_day = models.BooleanField(default=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tasks")
    # Indexed by task_candidate_due, whose first column it is.
    candidate = models.ForeignKey(
        "candidates.Candidate", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks", db_index=False
    )
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    source = models.CharField(max_length=10, choices=TaskSource.choices, default=TaskSource.MANUAL)
    # The sequence or trigger that made it; plain text, so automation can name its own ids without a foreign key.
    source_id = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            # "My open tasks by due date" and the sidebar's overdue count.
            models.Index(
                fields=["owner", "due_at", "id"], name="task_owner_open_due", condition=Q(completed_at__isnull=True)
            ),
            # The Done tab: the owner's finished tasks, most recent first.
            models.Index(
                fields=["owner", "-completed_at"], name="task_owner_done", condition=Q(completed_at__isnull=False)
            ),
            models.Index(fields=["candidate", "due_at"], name="task_candidate_due"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.completed_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.completed_at is None and self.due_at is not None and self.due_at < timezone.now()
