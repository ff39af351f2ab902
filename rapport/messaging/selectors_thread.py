"""Reads for a person's conversation: every message on every channel, in and out, with logged calls and meetings.

The thread is keyset-paginated on (time, source, id) across two tables (messages and the timeline's call and
meeting events), so the 20th "show earlier" costs what the first page costs, however long the history grows.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q
from django.utils.dateparse import parse_datetime

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, can
from rapport.candidates.models import Candidate
from rapport.common.errors import BadRequest, NotFound
from rapport.common.ids import parse_id
from rapport.common.pagination import decode_cursor, encode_cursor
from rapport.messaging.models import (
    Message,
    MessageAttachment,
    MessageDirection,
    MessageStatus,
    TemplateChannel,
)
from rapport.timeline.models import Activity, Note

THREAD_PAGE = 50
MAX_THREAD_PAGE = 200
CONVERSATION_EVENTS = ["call.logged", "meeting.logged"]

# Where each source sorts among items with the same timestamp: a call logged in the same second as a message
# comes before it. Part of the cursor, so a page boundary between equal timestamps loses and repeats nothing.
_RANK_EVENT = 0
_RANK_MESSAGE = 1


@dataclass(frozen=True)
class ThreadItem:
    """One entry of the conversation: a message, or a logged call or meeting (with its note)."""

    kind: str  # "message", "call" or "meeting"
    at: datetime
    rank: int
    pk: int
    message: Message | None = None
    activity: Activity | None = None
    note: Note | None = None

    @property
    def sort_key(self) -> tuple[datetime, int, int]:
        return (self.at, self.rank, self.pk)


@dataclass
class ThreadPage:
    """Items oldest first (a chat reads downwards); `earlier_cursor` fetches the page before, or is None."""

    items: list[ThreadItem] = field(default_factory=list)
    earlier_cursor: str | None = None


@dataclass(frozen=True)
class ReplyDefaults:
    """How an inline reply goes out: the channel, the message it answers, and (email) the subject."""

    channel: str
    reply_to: Message | None
    subject: str

    @property
    def channel_label(self) -> str:
        return TemplateChannel(self.channel).label


def _visible_candidate(user: User, candidate: Candidate) -> None:
    from rapport.candidates.selectors import candidates_visible_to

    # A primary-key lookup: the thread's queries below can then filter on the person alone, instead of joining
    # every message to the whole visible-people set.
    if not can(user, Capability.SEND_MESSAGES) or not candidates_visible_to(user).filter(pk=candidate.pk).exists():
        raise NotFound("No such person.")


def _position(before: str | None) -> tuple[datetime, int, int] | None:
    data = decode_cursor(before)
    if not data:
        return None
    at = parse_datetime(str(data.get("t")))
    rank, pk = data.get("r"), data.get("i")
    if at is None or not isinstance(rank, int) or not isinstance(pk, int):
        raise BadRequest("The cursor is not valid.", fields={"before": ["Not a valid cursor."]})
    return at, rank, pk


def _before(position: tuple[datetime, int, int] | None, *, time_field: str, rank: int) -> Q:
    """Rows of one source that sort strictly before the cursor in (time, rank, id) order."""
    if position is None:
        return Q()
    at, cursor_rank, pk = position
    earlier = Q(**{f"{time_field}__lt": at})
    if rank < cursor_rank:
        return earlier | Q(**{time_field: at})
    if rank == cursor_rank:
        return earlier | Q(**{time_field: at, "id__lt": pk})
    return earlier


def candidate_thread(
    *, user: User, candidate: Candidate, before: str | None = None, limit: int = THREAD_PAGE
) -> ThreadPage:
    """The newest `limit` entries of a person's conversation before the `before` cursor, oldest first.

    Messages come from the (candidate, -created_at, -id) index; calls and meetings from the timeline's
    (candidate, -occurred_at, -id) index, leaving out events tied to a job the user cannot see. Out of scope is 404.
    """
    from rapport.jobs.selectors import jobs_visible_to
    from rapport.timeline.selectors import notes_for_activities

    _visible_candidate(user, candidate)
    limit = max(1, min(limit, MAX_THREAD_PAGE))
    position = _position(before)

    messages = list(
        Message.objects.filter(candidate=candidate)
        .filter(_before(position, time_field="created_at", rank=_RANK_MESSAGE))
        .select_related("sent_by", "job")
        .prefetch_related(Prefetch("attachments", queryset=MessageAttachment.objects.order_by("id")))
        .order_by("-created_at", "-id")[: limit + 1]
    )
    events_qs = Activity.objects.filter(candidate=candidate, type__in=CONVERSATION_EVENTS).filter(
        _before(position, time_field="occurred_at", rank=_RANK_EVENT)
    )
    if not user.has_full_access:
        events_qs = events_qs.filter(Q(job__isnull=True) | Q(job__in=jobs_visible_to(user)))
    events = list(events_qs.select_related("actor").order_by("-occurred_at", "-id")[: limit + 1])
    notes = notes_for_activities(events)

    merged = [ThreadItem("message", m.created_at, _RANK_MESSAGE, m.pk, message=m) for m in messages] + [
        ThreadItem(
            "call" if a.type == "call.logged" else "meeting",
            a.occurred_at,
            _RANK_EVENT,
            a.pk,
            activity=a,
            note=notes.get((a.payload or {}).get("note_id")),
        )
        for a in events
    ]
    merged.sort(key=lambda item: item.sort_key, reverse=True)
    page = merged[:limit]
    cursor = None
    if len(merged) > limit:
        oldest = page[-1]
        cursor = encode_cursor({"t": oldest.at.isoformat(), "r": oldest.rank, "i": oldest.pk})
    page.reverse()
    return ThreadPage(items=page, earlier_cursor=cursor)


def thread_reply_defaults(*, user: User, candidate: Candidate, channel: str | None = None) -> ReplyDefaults:
    """The channel of the person's last reply (else their preferred one, if we have a number for a text channel,
    else email), and what it answers.

    A reply answers the newest message on that channel, so an email reply carries In-Reply-To and References.
    `channel`, when given and valid, overrides the choice (the reply form posts the channel it showed).
    """
    _visible_candidate(user, candidate)
    if channel not in TemplateChannel.values:
        last_inbound = (
            Message.objects.filter(candidate=candidate, direction=MessageDirection.INBOUND)
            .order_by("-created_at", "-id")
            .only("channel")
            .first()
        )
        if last_inbound is not None:
            channel = last_inbound.channel
        elif candidate.preferred_channel in TemplateChannel.values and (
            candidate.preferred_channel == TemplateChannel.EMAIL or candidate.phones.exists()
        ):
            channel = candidate.preferred_channel
        else:
            channel = TemplateChannel.EMAIL
    reply_to = Message.objects.filter(candidate=candidate, channel=channel).order_by("-created_at", "-id").first()
    subject = ""
    if channel == TemplateChannel.EMAIL and reply_to is not None and reply_to.subject:
        subject = reply_to.subject if reply_to.subject.lower().startswith("re:") else f"Re: {reply_to.subject}"
    return ReplyDefaults(channel=channel, reply_to=reply_to, subject=subject)


def attachment_get_for_user(*, user: User, attachment_id: Any) -> MessageAttachment:
    """A message attachment, only when its person is in the user's scope and the role may read messages (else 404)."""
    from rapport.candidates.selectors import candidates_visible_to

    try:
        pk = parse_id(attachment_id)
    except (TypeError, ValueError):
        raise NotFound("No such file.")
    attachment = MessageAttachment.objects.select_related("message").filter(pk=pk).first()
    if (
        attachment is None
        or not can(user, Capability.SEND_MESSAGES)
        or not candidates_visible_to(user).filter(pk=attachment.message.candidate_id).exists()
    ):
        raise NotFound("No such file.")
    return attachment


# The chip a message shows: engagement outranks the delivery status once the person opened or clicked.
_CHIP_TONES = {
    MessageStatus.QUEUED: "neutral",
    MessageStatus.SENDING: "neutral",
    MessageStatus.SCHEDULED: "info",
    MessageStatus.SENT: "success",
    MessageStatus.DELIVERED: "success",
    MessageStatus.FAILED: "danger",
    MessageStatus.BOUNCED: "danger",
    MessageStatus.SUPPRESSED: "warning",
    MessageStatus.RECEIVED: "accent",
}


def message_chip(message: Message) -> tuple[str, str, str]:
    """(key, label, tone) of a message's status chip: opened and clicked show over sent and delivered."""
    if message.direction == MessageDirection.OUTBOUND and message.status in (
        MessageStatus.SENT,
        MessageStatus.DELIVERED,
    ):
        if message.clicked_at:
            return "clicked", "Clicked", "success"
        if message.opened_at:
            return "opened", "Opened", "success"
    return message.status, message.get_status_display(), _CHIP_TONES.get(message.status, "neutral")
