"""Signed, single-person survey links.

The token carries only the invitation id, signed with Django's `TimestampSigner` under its own salt, so it cannot
be forged, reused for another survey or read as a portal sign-in. One answer per invitation is enforced by the
invitation row (`answered_at`), not by the token.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SURVEY_LINK_SALT = "rapport.surveys.answer"
# Long enough for someone to answer after a holiday, short enough that old mails stop working.
SURVEY_LINK_MAX_AGE_SECONDS = 60 * 24 * 3600


def survey_token(invitation_id: int) -> str:
    return signing.TimestampSigner(salt=SURVEY_LINK_SALT).sign_object({"i": invitation_id})


def survey_link(invitation_id: int) -> str:
    return settings.BASE_URL + reverse("surveys:answer", args=[survey_token(invitation_id)])


def survey_token_read(token: str) -> int | None:
    """The invitation id a token names, if its signature and age hold."""
    try:
        data = signing.TimestampSigner(salt=SURVEY_LINK_SALT).unsign_object(token, max_age=SURVEY_LINK_MAX_AGE_SECONDS)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("i"), int) or isinstance(data.get("i"), bool):
        return None
    return data["i"]
