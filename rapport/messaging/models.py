from django.conf import settings
from django.db import models
from django.utils import timezone


class TemplateChannel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"


class TemplateCategory(models.TextChoices):
    OUTREACH = "outreach", "Outreach"
    APPLICATION = "application", "Application"
    INTERVIEW = "interview", "Interview"
    OFFER = "offer", "Offer"
    REJECTION = "rejection", "Rejection"
    NURTURE = "nurture", "Nurture"
    EVENT = "event", "Event"
    GENERAL = "general", "General"


class MessageTemplate(models.Model):
    """A message recruiters write once and send many times; merge fields are filled in per person.

    `subject` and `body` are the default language's text. `variants` holds the other languages as
    `[{"language", "subject", "body"}]`: they are always read and written with the template, never queried alone,
    so a JSON list keeps them in the one row.
    """

    name = models.CharField(max_length=120, unique=True)
    channel = models.CharField(max_length=10, choices=TemplateChannel.choices, default=TemplateChannel.EMAIL)
    category = models.CharField(max_length=20, choices=TemplateCategory.choices, default=TemplateCategory.GENERAL)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    language = models.CharField(max_length=10, blank=True)
    variants = models.JSONField(default=list, blank=True)
    # WhatsApp only: the template Meta approved (a Twilio Content SID, HX…) and which merge field fills each of its
    # numbered variables ({"1": "candidate.first_name"}); sent instead of the body outside the 24-hour window.
    whatsapp_content_sid = models.CharField(max_length=34, blank=True)
    whatsapp_variables = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["channel", "category"], name="template_channel_category")]

    def __str__(self) -> str:
        return self.name

    @property
    def languages(self) -> list[str]:
        return [v["language"] for v in self.variants or []]


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    BOUNCED = "bounced", "Bounced"
    SUPPRESSED = "suppressed", "Not sent"
    RECEIVED = "received", "Received"


class MessageDirection(models.TextChoices):
    OUTBOUND = "outbound", "Outbound"
    INBOUND = "inbound", "Inbound"


class MessageKind(models.TextChoices):
    """Who asked for the message: quiet hours and the frequency cap hold back bulk and automated ones only."""

    ONE_TO_ONE = "one_to_one", "One to one"
    BULK = "bulk", "Bulk"
    AUTOMATED = "automated", "Automated"


# Kinds that quiet hours and the frequency cap apply to (a recruiter writing to one person is exempt).
RESPECTFUL_KINDS = [MessageKind.BULK, MessageKind.AUTOMATED]


class BulkSend(models.Model):
    """One bulk send: who sent which template to which audience, and the outcome shown back to the sender.

    Its messages are ordinary outbox rows pointing here. The outcome (queued count, per-person skips) is stored so
    that a repeated request with the same idempotency key returns the first answer instead of sending again.
    """

    template = models.ForeignKey(MessageTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    audience = models.CharField(max_length=200, blank=True)  # "3 selected people", "pool Backend", …
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queued = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=list, blank=True)  # [{"candidate_id", "name", "reason"}]
    idempotency_key = models.CharField(max_length=255, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Bulk send to {self.audience}: {self.queued} queued"


# The states the outbox worker picks up once `next_attempt_at` has passed; SENDING is a lease that a crashed
# worker leaves behind, so it is taken up again when the lease runs out.
DUE_STATUSES = [MessageStatus.QUEUED, MessageStatus.SCHEDULED, MessageStatus.SENDING]


class Message(models.Model):
    """One message to or from a person; outgoing ones are the outbox, rendered in full before they are queued.

    The text is frozen at compose time, so what the worker sends is exactly what the sender previewed, and the
    message stays readable on the profile after its template changes or is deleted.
    """

    # Indexed by message_candidate_time, whose first column it is.
    candidate = models.ForeignKey(
        "candidates.Candidate", on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    application = models.ForeignKey(
        "pipeline.Application", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    template = models.ForeignKey(
        MessageTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    channel = models.CharField(max_length=10, choices=TemplateChannel.choices, default=TemplateChannel.EMAIL)
    kind = models.CharField(max_length=12, choices=MessageKind.choices, default=MessageKind.ONE_TO_ONE)
    bulk = models.ForeignKey(
        BulkSend, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages", db_index=False
    )
    direction = models.CharField(max_length=10, choices=MessageDirection.choices, default=MessageDirection.OUTBOUND)
    to_address = models.CharField(max_length=254)
    from_header = models.CharField(max_length=400, blank=True)
    reply_to = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    html = models.TextField(blank=True)
    text = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the worker should next look at it: the send time, the next retry, or the end of a sending lease.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Why the worker held a due message back (quiet hours, frequency cap) and until when; the message is not lost.
    deferred_reason = models.CharField(max_length=300, blank=True)
    message_id = models.CharField(max_length=255)  # unique: see Meta
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # unique: see Meta
    claim_token = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Engagement from our own open pixel and click redirects: the first of each, and how many there were since.
    opened_at = models.DateTimeField(null=True, blank=True)
    open_count = models.PositiveIntegerField(default=0)
    clicked_at = models.DateTimeField(null=True, blank=True)
    click_count = models.PositiveIntegerField(default=0)
    # The provider's own id for the message (a Twilio SID, an ESP's message id): its webhooks name it by this.
    provider_message_id = models.CharField(max_length=255, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Inbound only: who wrote (to_address is then our own mailbox or number) and the inbox state of the reply.
    from_address = models.CharField(max_length=254, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        # Constraints rather than unique=True: PostgreSQL then gets no extra LIKE-pattern index for these columns,
        # which nothing queries and every insert and settle would otherwise maintain.
        constraints = [
            models.UniqueConstraint(fields=["message_id"], name="message_message_id_unique"),
            models.UniqueConstraint(fields=["idempotency_key"], name="message_idempotency_key_unique"),
        ]
        indexes = [
            # The worker's "what is due" query touches only live rows, however long the history grows.
            models.Index(fields=["next_attempt_at"], name="message_due", condition=models.Q(status__in=DUE_STATUSES)),
            models.Index(fields=["candidate", "-created_at", "-id"], name="message_candidate_time"),
            # The frequency cap counts a person's recent bulk and automated sends.
            models.Index(
                fields=["candidate", "sent_at"],
                name="message_capped_sent",
                condition=models.Q(kind__in=RESPECTFUL_KINDS),
            ),
            models.Index(
                fields=["provider_message_id"], name="message_provider_id", condition=~models.Q(provider_message_id="")
            ),
            # The inbox lists open replies, newest first; done ones drop out of the index.
            models.Index(
                fields=["-created_at"],
                name="message_inbox_open",
                condition=models.Q(direction="inbound", done_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.to_address}: {self.subject or self.text[:40]}"

    @property
    def is_pending(self) -> bool:
        return self.status in DUE_STATUSES


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    HARD_BOUNCE = "hard_bounce", "Hard bounce"
    COMPLAINT = "complaint", "Spam complaint"
    MANUAL = "manual", "Added by the team"


class Suppression(models.Model):
    """An address we must not write to on a channel; checked when composing and again just before sending."""

    address = models.CharField(max_length=254)  # lower-cased email, or E.164 phone
    channel = models.CharField(max_length=10, choices=TemplateChannel.choices, default=TemplateChannel.EMAIL)
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["address", "channel"], name="suppression_address_channel")]

    def __str__(self) -> str:
        return f"{self.address} ({self.channel}): {self.reason}"


class MessageAttachment(models.Model):
    """A file that came with a message (an inbound reply's attachments, or an MMS picture)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="message-attachments/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120, blank=True)
    size = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.filename


class MediaStatus(models.TextChoices):
    PENDING = "pending", "Downloading"
    STORED = "stored", "Stored"
    REFUSED = "refused", "Not kept"


class InboundMedia(models.Model):
    """A picture or file someone sent us by MMS or WhatsApp, fetched from Twilio after the webhook has answered.

    Each row is due work (`due_at`, claimed with a lease like enrolment steps): once fetched it points at the
    stored attachment; a refused one keeps the reason, which the message's text shows too.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="media")
    position = models.PositiveSmallIntegerField()  # N of Twilio's MediaUrlN
    url = models.URLField(max_length=1000)
    content_type = models.CharField(max_length=120, blank=True)  # as Twilio announced it
    status = models.CharField(max_length=10, choices=MediaStatus.choices, default=MediaStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    error = models.CharField(max_length=300, blank=True)
    attachment = models.OneToOneField(
        MessageAttachment, null=True, blank=True, on_delete=models.SET_NULL, related_name="media"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "position"], name="inbound_media_message_position")]
        indexes = [
            # The worker's "what is due" query sees only media still waiting, however many were fetched.
            models.Index(fields=["due_at"], name="inbound_media_due", condition=models.Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.content_type or 'media'} {self.position} of message {self.message_id}: {self.status}"


class InboundStatus(models.TextChoices):
    MATCHED = "matched", "Matched to a person"
    UNKNOWN_SENDER = "unknown_sender", "Unknown sender"
    MALFORMED = "malformed", "Could not be read"
    DISMISSED = "dismissed", "Dismissed"


class InboundEmail(models.Model):
    """Every email that reached our reply mailbox or inbound webhook, kept raw, whatever became of it.

    A reply from a known person becomes an inbound `Message` on their thread. Mail from an unknown sender waits
    here for triage, and mail we could not parse is kept raw and flagged: nothing that arrives is dropped.
    """

    source = models.CharField(max_length=20)  # "imap", or the provider name of an inbound webhook
    # The mailbox's or provider's id for it, so polling the same mailbox twice does not store it twice.
    external_id = models.CharField(max_length=255)
    raw = models.BinaryField()
    status = models.CharField(max_length=20, choices=InboundStatus.choices)
    error = models.TextField(blank=True)
    from_address = models.CharField(max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(default=timezone.now)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    triaged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="inbound_source_external_id")]
        indexes = [models.Index(fields=["status", "-received_at"], name="inbound_status_time")]

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject}"
