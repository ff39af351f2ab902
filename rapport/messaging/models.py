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
