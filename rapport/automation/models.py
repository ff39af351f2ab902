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


# --- sequences ------------------------------------------------------------------------------------------------------


class SequenceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


class Sequence(models.Model):
    """A nurture campaign: ordered steps that each enrolled person walks through on their own clock.

    `send_window_*` are read in the recipient's time zone; no window means any time outside quiet hours.
    `segment` set means people who newly match it are enrolled automatically.
    """

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=SequenceStatus.choices, default=SequenceStatus.DRAFT)
    # "owner" signs each message as the person's owner; "user" signs them all as `sender_user`.
    sender_mode = models.CharField(max_length=10, default="owner")
    sender_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    send_window_start = models.TimeField(null=True, blank=True)
    send_window_end = models.TimeField(null=True, blank=True)
    # Lower-case three-letter weekday names ("mon" … "sun"); empty means every day.
    send_window_days = models.JSONField(default=list, blank=True)
    # Which events take a person out: replied, applied, stage_changed, unsubscribed, do_not_contact, hired.
    exit_on = models.JSONField(default=list, blank=True)
    segment = models.ForeignKey(
        "candidates.Segment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class StepType(models.TextChoices):
    MESSAGE = "message", "Send a message"
    WAIT = "wait", "Wait"
    TASK = "task", "Create a task"
    TAG = "tag", "Add a tag"
    POOL = "pool", "Add to a pool"
    BRANCH = "branch", "Branch on engagement"


class SequenceStep(models.Model):
    """One step of a sequence; `config` holds what its type needs (see `automation.steps`).

    message: {"channel"}; wait: {"minutes"|"hours"|"days", "business_days"} or {"until": {"weekday", "time"}};
    task: {"title", "due_in_days"}; tag: {"tag"}; pool: {"pool_id"};
    branch: {"on": "opened"|"clicked"|"replied"|"no_response", "within_days", "then": position, "else": position}.
    """

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    type = models.CharField(max_length=10, choices=StepType.choices)
    # A template in use cannot be deleted: PROTECT makes the database refuse, the service says why.
    template = models.ForeignKey(
        "messaging.MessageTemplate", null=True, blank=True, on_delete=models.PROTECT, related_name="sequence_steps"
    )
    config = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["sequence", "position"]
        constraints = [models.UniqueConstraint(fields=["sequence", "position"], name="sequence_step_position")]

    def __str__(self) -> str:
        return f"{self.sequence_id} #{self.position} {self.type}"


class StepVariant(models.Model):
    """An A/B variant of a message step. A person's variant is sticky: chosen once from their id and the step."""

    step = models.ForeignKey(SequenceStep, on_delete=models.CASCADE, related_name="variants")
    label = models.CharField(max_length=10)  # "A", "B", …
    template = models.ForeignKey(
        "messaging.MessageTemplate", on_delete=models.PROTECT, related_name="sequence_variants"
    )
    weight = models.PositiveSmallIntegerField(default=50)

    class Meta:
        ordering = ["step", "label"]
        constraints = [models.UniqueConstraint(fields=["step", "label"], name="step_variant_label")]


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    EXITED = "exited", "Exited"


# Statuses in which a person counts as "in" the sequence: they may not be enrolled in it again.
ENROLMENT_OPEN = [EnrolmentStatus.ACTIVE, EnrolmentStatus.PAUSED]


class Enrolment(models.Model):
    """A person walking through a sequence. `due_at` is when their next step runs; the dispatcher reads it.

    Claiming sets `claimed_until` (a lease): a worker killed mid-step leaves the row to be taken again once the
    lease runs out, and the step's outbox idempotency key stops a second send.
    """

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="enrolments", db_index=False)
    candidate = models.ForeignKey(
        "candidates.Candidate", on_delete=models.CASCADE, related_name="enrolments", db_index=False
    )
    status = models.CharField(max_length=10, choices=EnrolmentStatus.choices, default=EnrolmentStatus.ACTIVE)
    # The position of the next step to run (steps before it are done).
    step_position = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # How the person came in: manual, segment or trigger (with `source_id` naming the trigger).
    source = models.CharField(max_length=10, default="manual")
    source_id = models.CharField(max_length=40, blank=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    enrolled_at = models.DateTimeField(default=timezone.now)
    # Why the person is paused (a template that failed for them, or by hand) or why they left.
    status_reason = models.CharField(max_length=300, blank=True)
    exited_at = models.DateTimeField(null=True, blank=True)
    # Set when the sequence was paused as a whole, so resuming it resumes only these.
    paused_with_sequence = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sequence", "candidate"],
                condition=Q(status__in=["active", "paused"]),
                name="enrolment_open_once",
            )
        ]
        indexes = [
            # The dispatcher: only active rows with a due time are in this index, so its size is O(waiting).
            models.Index(fields=["due_at", "id"], name="enrolment_due", condition=Q(status="active")),
            models.Index(fields=["candidate", "status"], name="enrolment_candidate"),
            models.Index(fields=["sequence", "status", "-id"], name="enrolment_sequence"),
        ]

    def __str__(self) -> str:
        return f"{self.candidate_id} in {self.sequence_id}"


class StepRun(models.Model):
    """One executed step for one person: what it did and, for messages, how the person responded (for stats)."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="runs")
    step = models.ForeignKey(SequenceStep, on_delete=models.CASCADE, related_name="runs", db_index=False)
    variant = models.CharField(max_length=10, blank=True)
    message = models.ForeignKey("messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(max_length=20, default="done")  # done, skipped, failed
    detail = models.CharField(max_length=300, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["step", "variant"], name="step_run_step_variant")]


# --- triggers -------------------------------------------------------------------------------------------------------


class Trigger(models.Model):
    """A when → if → then rule over the timeline.

    `event` is an activity type (or a daily date rule such as "candidate.birthday"); `conditions` is a list of
    {"field", "op", "value"}; `action` is what to do after `delay_minutes` (and `offsets`, for several touches).
    `key` names a shipped default so it is installed once and can be found again.
    """

    name = models.CharField(max_length=200)
    key = models.CharField(max_length=60, null=True, blank=True, unique=True)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=False)
    event = models.CharField(max_length=64)
    conditions = models.JSONField(default=list, blank=True)
    action = models.CharField(max_length=20)  # send_message, create_task, enrol, add_to_pool, add_tag, notify
    template = models.ForeignKey(
        "messaging.MessageTemplate", null=True, blank=True, on_delete=models.PROTECT, related_name="triggers"
    )
    sequence = models.ForeignKey(Sequence, null=True, blank=True, on_delete=models.PROTECT, related_name="triggers")
    config = models.JSONField(default=dict, blank=True)
    delay_minutes = models.IntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["event"], name="trigger_event", condition=Q(enabled=True))]

    def __str__(self) -> str:
        return self.name


class TriggerRunStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


class TriggerRun(models.Model):
    """One firing of a trigger for one event (and one offset): the run log, and the due work for delayed actions.

    Unique per (trigger, fired_for, offset), so reading the same event twice fires nothing twice.
    """

    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="runs", db_index=False)
    activity = models.ForeignKey(
        "timeline.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the run fired for, unique with the trigger and offset: "a<activity id>" for an event, or for date rules
    # (birthdays, inactivity) that have no activity, "c<candidate id>:<day>".
    fired_for = models.CharField(max_length=60)
    offset = models.IntegerField(default=0)  # minutes from the event, for multi-touch rules
    candidate = models.ForeignKey(
        "candidates.Candidate", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    status = models.CharField(max_length=10, choices=TriggerRunStatus.choices, default=TriggerRunStatus.SCHEDULED)
    due_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    detail = models.CharField(max_length=500, blank=True)
    message = models.ForeignKey("messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["trigger", "fired_for", "offset"], name="trigger_run_once")]
        indexes = [
            models.Index(fields=["due_at", "id"], name="trigger_run_due", condition=Q(status="scheduled")),
            models.Index(fields=["trigger", "-id"], name="trigger_run_trigger"),
            models.Index(fields=["candidate", "status"], name="trigger_run_candidate"),
        ]
