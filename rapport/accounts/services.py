"""Writes to accounts: personal API tokens."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import ApiToken, User, hash_token
from rapport.common.errors import NotFound, ValidationFailed
from rapport.timeline.services import audit_record

MAX_TOKEN_NAME = 100


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token acting as `user`; the raw value is returned here once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.single("name", "Name the token after what will use it, such as 'ATS sync'.")
    if len(name) > MAX_TOKEN_NAME:
        raise ValidationFailed.single("name", f"Use at most {MAX_TOKEN_NAME} characters.")
    if not user.is_active:
        raise ValidationFailed.single("user", "A deactivated user cannot have API tokens.")
    raw = ApiToken.generate_raw()
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:12], token_hash=hash_token(raw))
    audit_record(actor=user, action="create", object_type="api_token", object_id=token.pk, changes={"name": name})
    return token, raw


@transaction.atomic
def api_token_revoke(*, user: User, token_id: Any) -> None:
    """Revoke one of the user's own tokens; it stops working at once. Unknown or foreign ids answer NotFound."""
    try:
        pk = int(token_id)
    except (TypeError, ValueError):
        raise NotFound("No such token.")
    token = ApiToken.objects.select_for_update().filter(user=user, pk=pk, revoked_at__isnull=True).first()
    if token is None:
        raise NotFound("No such token.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(actor=user, action="revoke", object_type="api_token", object_id=token.pk, changes={"name": token.name})


@transaction.atomic
def user_update_profile(
    *, user: User, name: str, email_from_name: str | None = None, email_reply_to: str | None = None
) -> User:
    """Change the name a user is shown by and how their email is signed; recorded on the audit log."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.single("name", "Enter the name your team knows you by.")
    if len(name) > 150:
        raise ValidationFailed.single("name", "Use at most 150 characters.")
    wanted: dict[str, str] = {"name": name}
    if email_from_name is not None:
        # It goes into a mail header, where a line break would start a new header.
        from_name = " ".join(email_from_name.split())
        if len(from_name) > 100:
            raise ValidationFailed.single("email_from_name", "Use at most 100 characters.")
        wanted["email_from_name"] = from_name
    if email_reply_to is not None:
        wanted["email_reply_to"] = _reply_to(email_reply_to)
    changes = {field: [getattr(user, field), value] for field, value in wanted.items() if getattr(user, field) != value}
    if changes:
        audit_record(actor=user, action="update", object_type="user", object_id=user.pk, changes=changes)
        for field, (_, value) in changes.items():
            setattr(user, field, value)
        user.save(update_fields=list(changes))
    return user


def _reply_to(value: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    value = (value or "").strip()
    if not value:
        return ""
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed.single("email_reply_to", f"This is not a valid email address: {exc}")
