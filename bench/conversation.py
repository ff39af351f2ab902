"""The conversation cases: a person's thread and the recruiter inbox, beside the naive "everything at once" version.

The data is added to the benchmark database for the run and taken out again afterwards, so other cases always see
the same database: one person with 1,000 messages (email, SMS and WhatsApp, in and out) and 50 logged calls, plus
100 other people owned by the signed-in recruiter with 6 messages each, half of them replies.
"""

import uuid
from datetime import timedelta
from typing import Any

from bench.timing import Measurement, measure

THREAD_TARGET_MS = 100.0
INBOX_TARGET_MS = 100.0
DOMAIN = "conversation.bench.invalid"
HEAVY_MESSAGES = 1_000
HEAVY_CALLS = 50
OTHER_PEOPLE = 100
OTHER_MESSAGES = 6
CHANNELS = ("email", "sms", "whatsapp")


def remove() -> int:
    """Take this case's people (and, by cascade, their messages and events) out of the database."""
    from rapport.candidates.models import Candidate

    ids = list(Candidate.objects.filter(emails__email__endswith=f"@{DOMAIN}").values_list("pk", flat=True))
    Candidate.objects.filter(pk__in=ids).delete()
    return len(ids)


def _messages(candidate: Any, count: int, *, sender: Any, start: Any, step: timedelta) -> list[Any]:
    from rapport.messaging.models import Message, MessageDirection, MessageStatus

    rows = []
    for i in range(count):
        inbound = i % 2 == 1
        rows.append(
            Message(
                candidate=candidate,
                channel=CHANNELS[i % 3],
                direction=MessageDirection.INBOUND if inbound else MessageDirection.OUTBOUND,
                status=MessageStatus.RECEIVED if inbound else MessageStatus.SENT,
                to_address="team@rapport.example" if inbound else f"person@{DOMAIN}",
                from_address=f"person@{DOMAIN}" if inbound else "",
                subject="" if CHANNELS[i % 3] != "email" else f"Re: The platform role ({i})",
                text=f"Message {i}: thanks for getting back to me, Tuesday works well for a call.",
                message_id=f"<{uuid.uuid4().hex}@{DOMAIN}>",
                sent_by=None if inbound else sender,
                created_at=start + step * i,
                sent_at=start + step * i,
                # Older replies were read; the newest few wait in the inbox.
                read_at=(start + step * i) if inbound and i < count - 6 else None,
            )
        )
    return rows


def seed(recruiter: Any) -> dict[str, Any]:
    """Add the heavy person and the 100 others; returns the heavy person's id."""
    from django.db import transaction
    from django.utils import timezone

    from rapport.candidates.models import Candidate, CandidateEmail
    from rapport.common.html import markdown_to_safe_html
    from rapport.messaging.models import Message
    from rapport.timeline.models import Activity, Note

    remove()
    now = timezone.now()
    with transaction.atomic():
        heavy = Candidate.objects.create(first_name="Thread", last_name="Heavy", owner=recruiter, created_at=now)
        CandidateEmail.objects.create(candidate=heavy, email=f"heavy@{DOMAIN}")
        start = now - timedelta(days=400)
        Message.objects.bulk_create(
            _messages(heavy, HEAVY_MESSAGES, sender=recruiter, start=start, step=timedelta(hours=9)), batch_size=500
        )
        for i in range(HEAVY_CALLS):
            at = start + timedelta(days=8 * i, minutes=30)
            note = Note.objects.create(
                candidate=heavy,
                author=recruiter,
                kind="call",
                body=f"Call {i}",
                body_html=markdown_to_safe_html(f"Call {i}"),
                created_at=at,
            )
            Activity.objects.create(
                type="call.logged",
                candidate=heavy,
                actor=recruiter,
                occurred_at=at,
                payload={"note_id": note.pk, "body": note.body, "duration_minutes": 20},
            )
        others = Candidate.objects.bulk_create(
            Candidate(first_name=f"Other{i}", last_name="Person", owner=recruiter, created_at=now)
            for i in range(OTHER_PEOPLE)
        )
        CandidateEmail.objects.bulk_create(
            CandidateEmail(candidate=person, email=f"other{i}@{DOMAIN}") for i, person in enumerate(others)
        )
        rows = []
        for i, person in enumerate(others):
            rows.extend(
                _messages(
                    person,
                    OTHER_MESSAGES,
                    sender=recruiter,
                    start=now - timedelta(days=30, minutes=i),
                    step=timedelta(hours=5),
                )
            )
        Message.objects.bulk_create(rows, batch_size=500)
    return {"heavy_id": heavy.pk}


def _naive_thread(user: Any, candidate: Any) -> str:
    """A first version: every message and call of the person, rendered at once, with no paging."""
    from django.db.models import Prefetch
    from django.template.loader import render_to_string

    from rapport.messaging.models import Message, MessageAttachment
    from rapport.messaging.selectors_thread import CONVERSATION_EVENTS, ThreadItem, ThreadPage
    from rapport.timeline.models import Activity
    from rapport.timeline.selectors import notes_for_activities

    messages = list(
        Message.objects.filter(candidate=candidate)
        .select_related("sent_by", "job")
        .prefetch_related(Prefetch("attachments", queryset=MessageAttachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )
    events = list(Activity.objects.filter(candidate=candidate, type__in=CONVERSATION_EVENTS).select_related("actor"))
    notes = notes_for_activities(events)
    items = [ThreadItem("message", m.created_at, 1, m.pk, message=m) for m in messages] + [
        ThreadItem("call", a.occurred_at, 0, a.pk, activity=a, note=notes.get(a.payload.get("note_id"))) for a in events
    ]
    items.sort(key=lambda item: item.sort_key)
    return render_to_string("messaging/_thread_items.html", {"candidate": candidate, "page": ThreadPage(items=items)})


def _paged_thread(user: Any, candidate: Any) -> str:
    """Ours, measured the same way as the naive one (selector and the same template, no HTTP)."""
    from django.template.loader import render_to_string

    from rapport.messaging.selectors_thread import candidate_thread

    page = candidate_thread(user=user, candidate=candidate)
    return render_to_string("messaging/_thread_items.html", {"candidate": candidate, "page": page})


def _naive_inbox(user: Any) -> str:
    """A first version of "All": every open reply in scope, rendered at once, with no keyset page."""
    from django.template.loader import render_to_string

    from rapport.messaging.selectors_inbox import InboxPage, inbox_assignees, inbox_queryset, snooze_presets

    items = list(inbox_queryset(user=user, view="all").select_related("candidate", "job", "assigned_to"))
    context = {
        "page": InboxPage(items=items, next_cursor=None, view="all"),
        "view": "all",
        "assignees": list(inbox_assignees()),
        "snooze": snooze_presets(),
    }
    return render_to_string("messaging/_inbox_rows.html", context)


def _get(client: Any, path: str, sizes: list[int]) -> None:
    response = client.get(path, headers={"HX-Request": "true"} if "/thread/" in path else {})
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code} for {path}")
    sizes.append(len(response.content))


def run_conversation(settings: Any, *, user: Any, client: Any) -> list[Measurement]:
    """Seed, measure the thread and inbox requests and their naive versions on the same data, then clean up."""
    from rapport.candidates.models import Candidate
    from rapport.messaging.selectors_thread import candidate_thread

    measurements: list[Measurement] = []
    try:
        heavy = Candidate.objects.get(pk=seed(user)["heavy_id"])
        # The 10th "show earlier": keyset paging makes it cost what the first page costs.
        before = None
        for _ in range(10):
            before = candidate_thread(user=user, candidate=heavy, before=before).earlier_cursor
        cases = [
            ("profile thread, newest 50", f"/messages/to/{heavy.pk}/thread/"),
            ("profile thread, 11th page", f"/messages/to/{heavy.pk}/thread/?before={before}"),
            ("inbox, mine", "/inbox/"),
            ("inbox, all", "/inbox/?view=all"),
        ]
        for name, path in cases:
            m = Measurement("conversation", name, path)
            sizes: list[int] = []
            measure(m, lambda path=path, sizes=sizes: _get(client, path, sizes), runs=settings.runs, warmups=5)
            if sizes:
                m.info["bytes"] = sizes[-1]
            measurements.append(m)
        pairs = [
            ("thread render, paged (ours)", lambda: _paged_thread(user, heavy)),
            ("thread render, all at once (naive)", lambda: _naive_thread(user, heavy)),
            ("inbox render, all at once (naive)", lambda: _naive_inbox(user)),
        ]
        for name, action in pairs:
            m = Measurement("conversation", name, "in-process: selector + the same template")
            measure(m, action, runs=settings.runs, warmups=3, budget_seconds=settings.naive_budget)
            measurements.append(m)
    finally:
        remove()
    return measurements
