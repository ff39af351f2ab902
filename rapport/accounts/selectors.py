"""Reads of accounts."""

from django.db.models import QuerySet

from rapport.accounts.models import ApiToken, User


def api_tokens_active(*, user: User) -> QuerySet[ApiToken]:
    """A user's own tokens that still work, newest first."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")
