"""API: the caller's own notifications (replies, clicks and portal visits of people they own or follow)."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from rapport.api.idempotency import DESCRIPTION as IDEMPOTENCY
from rapport.api.idempotency import idempotent
from rapport.api.schemas import Id, InputSchema, PageParams, keyset_page, listing, responses, str_id
from rapport.notifications.models import Notification
from rapport.notifications.selectors import notifications_for_user
from rapport.notifications.services import MAX_READ_IDS, notifications_mark_read

router = Router(tags=["Notifications"])


class NotificationOut(Schema):
    id: str
    kind: str = Field(
        ...,
        description="The timeline event behind it: message.received, message.clicked, message.opened or "
        "portal.visited.",
    )
    text: str = Field(..., description="A sentence such as “Grace Hopper replied: “Re: the role””.")
    candidate_id: str
    activity_id: str
    occurred_at: datetime = Field(..., description="When the person did it.")
    created_at: datetime
    read_at: datetime | None

    @staticmethod
    def resolve_id(obj: Notification) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_candidate_id(obj: Notification) -> str:
        return str_id(obj.candidate_id) or ""

    @staticmethod
    def resolve_activity_id(obj: Notification) -> str:
        return str_id(obj.activity_id) or ""

    @staticmethod
    def resolve_occurred_at(obj: Notification) -> datetime:
        return obj.activity.occurred_at


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None


class NotificationParams(PageParams):
    unread: bool | None = Field(None, description="`true` for unread notifications only.")


class MarkReadIn(InputSchema):
    ids: list[Id] | None = Field(
        None,
        max_length=MAX_READ_IDS,
        description=f"The notifications to mark read (at most {MAX_READ_IDS}); leave out to mark all of them. "
        "Ids that are not the caller's are ignored.",
    )


class MarkReadOut(Schema):
    marked: int = Field(..., description="How many notifications were unread and are now read.")


@router.get(
    "/notifications",
    response=responses({200: NotificationPage}, 400, 422),
    summary="List your notifications",
    description=listing(
        "The caller's notifications, newest first: replies, link clicks and portal visits of the people they own or "
        "follow (opens too, for users who asked for them). Only ever the caller's own, and only about people still "
        "in their scope."
    ),
)
def list_notifications(request: HttpRequest, params: Query[NotificationParams]) -> dict[str, Any]:
    qs = notifications_for_user(user=request.auth, unread_only=bool(params.unread))
    items, next_cursor = keyset_page(qs, limit=params.limit, cursor=params.cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "/notifications/read",
    response=responses({200: MarkReadOut}, 400, 422),
    summary="Mark notifications as read",
    description="Marks the given `ids` read, or every unread notification of the caller when `ids` is left out. "
    "Marking a read notification again changes nothing. " + IDEMPOTENCY,
)
@idempotent
def mark_notifications_read(request: HttpRequest, payload: MarkReadIn | None = None) -> dict[str, int]:
    ids = payload.ids if payload is not None else None
    return {"marked": notifications_mark_read(user=request.auth, ids=ids)}
