"""The timeline's sentences for message events read right on every channel."""

from types import SimpleNamespace

import pytest

from rapport.common.templatetags.rapport_tags import activity_sentence


def _event(kind, **payload):
    return SimpleNamespace(type=kind, payload=payload, actor=SimpleNamespace(name="Riley", email=""), job=None)


@pytest.mark.parametrize(
    "event, sentence",
    [
        (
            _event("message.queued", channel="email", subject="A role"),
            "<strong>Riley</strong> wrote an email to Grace: <strong>A role</strong>",
        ),
        (_event("message.queued", channel="sms", subject=""), "<strong>Riley</strong> wrote a text to Grace"),
        (
            _event("message.queued", channel="whatsapp", subject="", scheduled_for="2026-12-04T09:00:00Z"),
            "<strong>Riley</strong> scheduled a WhatsApp message to Grace",
        ),
        (
            _event("message.received", channel="email", subject="Re: A role", snippet="Yes"),
            "Grace replied: <strong>Re: A role</strong>",
        ),
        (
            _event("message.received", channel="sms", subject="", snippet="Call me <b>now</b>"),
            "Grace replied by text: <strong>Call me &lt;b&gt;now&lt;/b&gt;</strong>",
        ),
        (_event("message.delivered", channel="sms"), "Text delivered to Grace"),
        (
            _event("message.clicked", channel="email", subject="A role"),
            "Email clicked by Grace: <strong>A role</strong>",
        ),
        (
            _event("message.failed", channel="email", subject="A role", status="suppressed", reason="Unsubscribed"),
            "Email not sent to Grace: <strong>A role</strong> (Unsubscribed)",
        ),
        (
            _event("task.created", title="Call back", source="manual"),
            "<strong>Riley</strong> added a task about Grace: <strong>Call back</strong>",
        ),
        (
            _event("task.created", title="Follow up", source="sequence"),
            "Automation added a task about Grace: <strong>Follow up</strong>",
        ),
        (
            _event("task.completed", title="Call back"),
            "<strong>Riley</strong> completed the task <strong>Call back</strong>",
        ),
    ],
)
def test_message_and_task_events_read_as_sentences(event, sentence):
    assert activity_sentence(event, "Grace") == sentence


@pytest.mark.parametrize(
    "event, sentence",
    [
        (
            _event("trigger.ran", trigger="Rejected: keep in the talent pool", detail="Added to Silver medalists"),
            "Automation ran the trigger <strong>Rejected: keep in the talent pool</strong> for Grace: "
            "Added to Silver medalists",
        ),
        (
            _event("meeting.scheduled", title="Panel <interview>", starts_at="2026-12-04T09:30:00+00:00"),
            "<strong>Riley</strong> scheduled <strong>Panel &lt;interview&gt;</strong> with Grace for "
            "Fri 4 Dec 2026, 09:30 (UTC)",
        ),
        (
            _event("meeting.scheduled", starts_at="soon"),
            "<strong>Riley</strong> scheduled <strong>a meeting</strong> with Grace for soon",
        ),
        (
            _event("offer.accepted", job="Platform Engineer", start_date="2027-01-04"),
            "Grace accepted the offer for <strong>Platform Engineer</strong>, starting 2027-01-04",
        ),
        (
            _event("survey.sent", survey="Your interview"),
            "<strong>Riley</strong> sent Grace the survey <strong>Your interview</strong>",
        ),
        (
            _event("survey.answered", survey="After the decision", anonymous=True),
            "Grace answered the anonymous survey <strong>After the decision</strong>",
        ),
    ],
)
def test_automation_meeting_and_survey_events_read_as_sentences(event, sentence, settings):
    settings.TIME_ZONE = "UTC"

    assert activity_sentence(event, "Grace") == sentence
