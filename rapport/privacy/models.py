from django.conf import settings
from django.db import models
from django.utils import timezone


class LegalBasis(models.TextChoices):
    CONSENT = "consent", "Consent"
    LEGITIMATE_INTEREST = "legitimate_interest", "Legitimate interest"
    CONTRACT = "contract", "Steps before a contract"


class Consent(models.Model):
    """One purpose a person agreed to (or we rely on), when and how, and whether they have withdrawn it.

    Rows are never deleted: withdrawing sets `withdrawn_at`, and agreeing again makes a new row, so the history
    of what the person agreed to, and to which wording, is kept.
    """

    candidate = models.ForeignKey("candidates.Candidate", on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=60)  # e.g. "recruitment", "talent_community", "job_alerts"
    legal_basis = models.CharField(max_length=24, choices=LegalBasis.choices, default=LegalBasis.CONSENT)
    # The notice the person saw, so what they agreed to can be shown again exactly.
    notice_version = models.CharField(max_length=40, blank=True)
    retention_days = models.PositiveIntegerField(null=True, blank=True)
    source = models.CharField(max_length=60, blank=True)  # "careers apply", "talent community", "portal", …
    given_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["candidate", "purpose", "-given_at"], name="consent_candidate_purpose")]

    def __str__(self) -> str:
        return f"{self.purpose} ({self.get_legal_basis_display()})"

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


class DeletionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for an admin"
    ERASED = "erased", "Erased"
    DECLINED = "declined", "Declined"


class DeletionRequest(models.Model):
    """A person asked, from the portal, to be erased; an admin confirms it and the erase service runs."""

    candidate = models.ForeignKey("candidates.Candidate", on_delete=models.CASCADE, related_name="deletion_requests")
    status = models.CharField(max_length=10, choices=DeletionStatus.choices, default=DeletionStatus.PENDING)
    requested_at = models.DateTimeField(default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "requested_at"], name="deletion_request_status")]

    def __str__(self) -> str:
        return f"Deletion request {self.pk} ({self.status})"
