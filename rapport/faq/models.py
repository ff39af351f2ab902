from django.conf import settings
from django.db import models
from django.utils import timezone


class FaqEntry(models.Model):
    """A question and its Markdown answer; scoped to a job or a department, or (both blank) shown everywhere."""

    question = models.CharField(max_length=300)
    answer = models.TextField(blank=True)
    published = models.BooleanField(default=False)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.CASCADE, related_name="faq_entries")
    department = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["question", "id"]
        verbose_name_plural = "FAQ entries"

    def __str__(self) -> str:
        return self.question


class UnansweredQuestion(models.Model):
    """A question the assistant could not answer, counted per normalised wording, for recruiters to act on."""

    key = models.CharField(max_length=300)  # unique: see Meta
    text = models.CharField(max_length=500)
    count = models.PositiveIntegerField(default=1)
    first_asked_at = models.DateTimeField(default=timezone.now)
    last_asked_at = models.DateTimeField(default=timezone.now)
    # Set when a recruiter turned it into an entry or dismissed it; asked again later, it opens again.
    resolved_at = models.DateTimeField(null=True, blank=True)
    entry = models.ForeignKey(FaqEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key"], name="faq_unanswered_key_unique")]
        indexes = [models.Index(fields=["resolved_at", "-last_asked_at"], name="faq_unanswered_open")]

    def __str__(self) -> str:
        return self.text
