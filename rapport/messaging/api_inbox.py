"""API: the inbox (replies waiting for someone) and the inbox state of one reply.

The operations are added to the messages router, because `PATCH /messages/{id}` shares its path with
`GET /messages/{id}`; rapport/messaging/api.py imports this module once its router exists.
"""

from datetime import datetime
from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Query, Schema

from rapport.api.schemas import Id, InputSchema, PageParams, listing, path_id, responses, str_id
from rapport.common.errors import ValidationFailed
from rapport.messaging.api import MessageOut, messages_router
from rapport.messaging.models import Message, MessageDirection
from rapport.messaging.selectors import message_get_for_user
from rapport.messaging.selectors_inbox import inbox_assignees, inbox_list, inbox_message_get_for_user
from rapport.messaging.services_inbound import snippet
from rapport.messaging.services_inbox import inbox_assign, inbox_mark_done, inbox_mark_read, inbox_snooze

ViewName = Literal["mine", "unassigned", "all", "snoozed", "done"]


class InboxItem(MessageOut):
    from_address: str = Field(..., description="Who wrote: their email address or phone number.")
    candidate_name: str
    snippet: str = Field(..., description="The first words of the text, on one line.")
    read_at: datetime | None
    done_at: datetime | None
    snoozed_until: datetime | None = Field(..., description="Hidden from the open views until then.")
    assigned_to_id: str | None

    @staticmethod
    def resolve_candidate_name(obj: Message) -> str:
        return obj.candidate.full_name

    @staticmethod
    def resolve_snippet(obj: Message) -> str:
        return snippet(obj.text)

    @staticmethod
    def resolve_assigned_to_id(obj: Message) -> str | None:
        return str_id(obj.assigned_to_id)


class InboxPage(Schema):
    items: list[InboxItem]
    next_cursor: str | None


class InboxParams(PageParams):
    view: ViewName = Field(
        "mine",
        description="`mine`: open replies assigned to you or, unassigned, from people you own, answering a message "
        "you sent, or about an application you wrote about; `unassigned`; `all` in your scope; `snoozed`; `done`.",
    )


class InboxPatch(InputSchema):
    done: bool | None = Field(None, description="true: done (it leaves the open views); false: open again.")
    snoozed_until: datetime | None = Field(
        None, description="ISO-8601 with a time zone, in the future and within a year; null wakes it now."
    )
    assigned_to_id: Id | None = Field(None, description="An active admin or recruiter; null unassigns it.")
    read: bool | None = Field(None, description="false marks it unread again.")


@messages_router.get(
    "/inbox",
    response=responses({200: InboxPage}, 400, 422),
    summary="The inbox: replies waiting for someone",
    tags=["Inbox"],
    description=listing(
        "Messages people sent us (`direction: inbound`), newest first, per `view`. Open means not done and not "
        "snoozed (a snooze whose time has passed is open again). For admins and recruiters; other roles get an "
        "empty list."
    ),
)
def list_inbox(request: HttpRequest, params: Query[InboxParams]) -> dict[str, Any]:
    page = inbox_list(user=request.auth, view=params.view, cursor=params.cursor, limit=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@messages_router.patch(
    "/messages/{message_id}",
    response=responses({200: InboxItem}, 400, 404, 422),
    summary="Change a reply's inbox state",
    tags=["Inbox"],
    description="For messages people sent us (`direction: inbound`): `done`, `snoozed_until`, `assigned_to_id` and "
    "`read`; only the fields sent change, all or nothing. A change of assignee is written to the audit log. "
    "Outbound messages answer 422; a message outside your scope 404.",
)
def update_inbox_state(request: HttpRequest, message_id: str, payload: InboxPatch) -> Message:
    user = request.auth
    message = message_get_for_user(user=user, message_id=path_id(message_id))
    if message.direction != MessageDirection.INBOUND:
        raise ValidationFailed.single("message_id", "Only messages people sent us have an inbox state.")
    message = inbox_message_get_for_user(user=user, message_id=message.pk)
    changes = payload.model_dump(exclude_unset=True)
    with transaction.atomic():
        if "assigned_to_id" in changes:
            assignee = None
            if changes["assigned_to_id"] is not None:
                assignee = inbox_assignees().filter(pk=changes["assigned_to_id"]).first()
                if assignee is None:
                    raise ValidationFailed.single("assigned_to_id", "Choose an active admin or recruiter.")
            inbox_assign(actor=user, messages=[message], assignee=assignee)
        if "snoozed_until" in changes:
            inbox_snooze(actor=user, messages=[message], until=changes["snoozed_until"])
        if changes.get("done") is not None:
            inbox_mark_done(actor=user, messages=[message], done=changes["done"])
        if changes.get("read") is not None:
            inbox_mark_read(actor=user, messages=[message], read=changes["read"])
    return Message.objects.select_related("candidate").get(pk=message.pk)
