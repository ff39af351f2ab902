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
