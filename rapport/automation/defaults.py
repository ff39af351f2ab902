"""The triggers Rapport ships with, one or more per scenario of the product brief, and the templates they send.

`triggers_install_defaults()` (and the automation data migration) creates each trigger once, found again by its
`key`, and each template once, found again by its name; a team's later edits to either are never overwritten.

Events that other parts of Rapport do not record yet, defined here so integrations and later features can write
them with `activity_record` (or `services_triggers.meeting_scheduled_record` / `offer_accepted_record`):

- `meeting.scheduled` — an interview or call was booked with the person. Payload `{"starts_at": ISO 8601 datetime
  with its offset, "title", "location", "preparation"}` and optionally `"meeting_id"` (booking the same id again
  replaces the earlier booking, whose reminders are then skipped); `application` set when it is about one.
- `offer.accepted` — the person accepted an offer. Payload `{"start_date": "YYYY-MM-DD"}`.
- `job.opened` — a job's status became open (recorded by `jobs.services`; no person, `job` set). Payload
  `{"job_id", "title", "department", "location", "reopened"}`.

Date rules have no event on the timeline; `triggers_fire_date_rules` finds who is due:
- `candidate.birthday` — people with a birthday today in their own time zone who opted in: a consent with the
  purpose `birthday_greetings` that is not withdrawn (`BIRTHDAY_CONSENT`).
- `candidate.inactive` — people whose record has not changed (`Candidate.updated_at`) for `config["months"]`.

Why the application acknowledgement is off: the career site already sends one (`careers.services.
application_acknowledge`) for every application made there. The default trigger is there for applications that
arrive in other ways (added by a recruiter, imported); it is off because those are often people the team spoke to
already, and when switched on it skips, with a reason, any application that already got a message.
"""

from typing import Any

DAY = 24 * 60
BIRTHDAY_CONSENT = "birthday_greetings"
JOB_ALERT_CONSENT = "talent_community"

_SIGN_OFF = "Best wishes,\n\n{{ recruiter.name if recruiter.name else company.name }}"

# name -> (category, subject, body). Bodies are Markdown and use only the documented merge fields.
TEMPLATES: dict[str, tuple[str, str, str]] = {
    "Automation: application received": (
        "application",
        "We received your application{% if job %} for {{ job.title }}{% endif %}",
        "Hi {{ candidate.first_name }},\n\n"
        "Thank you for applying{% if job %} for **{{ job.title }}**{% endif %} at {{ company.name }}. "
        "We read every application and will get back to you, whatever the outcome.\n\n"
        "You can follow where things stand in your [candidate portal]({{ portal_link }}).\n\n" + _SIGN_OFF,
    ),
    "Automation: rejection": (
        "rejection",
        "Your application{% if job %} for {{ job.title }}{% endif %}",
        "Hi {{ candidate.first_name }},\n\n"
        "Thank you for the time you gave us{% if job %} for **{{ job.title }}**{% endif %}. "
        "We have decided not to go further this time.\n\n"
        "This is about this role, not about you: many people we hire applied more than once. "
        "New roles open all the time on [our career site]({{ company.careers_link }}), "
        "and we would be glad to hear from you again.\n\n" + _SIGN_OFF,
    ),
    "Automation: interview reminder": (
        "interview",
        "Reminder: your interview{% if job %} for {{ job.title }}{% endif %}",
        "Hi {{ candidate.first_name }},\n\n"
        "A reminder of your interview with {{ company.name }}. The time below is in your own time zone.\n\n"
        "**Please bring:** a photo ID, and any certificates or documents we asked you for. "
        "You can upload documents in your [candidate portal]({{ portal_link }}).\n\n"
        "If the time no longer suits you, just reply to this email.\n\n" + _SIGN_OFF,
    ),
    "Automation: interview feedback request": (
        "interview",
        "How was your interview with {{ company.name }}?",
        "Hi {{ candidate.first_name }},\n\n"
        "Thank you for meeting us. We would love to know how the interview felt from your side: "
        "what went well, and what we could do better. Just reply to this email; two lines are plenty.\n\n" + _SIGN_OFF,
    ),
    "Automation: offer accepted welcome": (
        "offer",
        "Welcome to {{ company.name }}!",
        "Hi {{ candidate.first_name }},\n\n"
        "We are delighted that you accepted our offer{% if job %} for **{{ job.title }}**{% endif %}. "
        "Your start date is below. Until then, we will keep you posted on what to expect; "
        "if anything comes up, reply to this email.\n\n" + _SIGN_OFF,
    ),
    "Automation: before your first day": (
        "offer",
        "Your first day at {{ company.name }} is coming up",
        "Hi {{ candidate.first_name }},\n\n"
        "Your first day is getting close, and we are looking forward to it. "
        "Your start date is below. Please bring a photo ID and your bank and tax details for payroll. "
        "Any question at all: reply to this email.\n\n" + _SIGN_OFF,
    ),
    "Automation: new joiner check-in": (
        "general",
        "How are your first weeks at {{ company.name }}?",
        "Hi {{ candidate.first_name }},\n\n"
        "A quick check-in: how are things going in your new role? "
        "If anything could be better, reply to this email. We read every answer.\n\n" + _SIGN_OFF,
    ),
    "Automation: outreach follow-up": (
        "nurture",
        "Following up",
        "Hi {{ candidate.first_name }},\n\n"
        "I wrote to you a few days ago and wanted to make sure my message did not get lost. "
        "If the timing is not right, no problem: a one-line reply is enough, and I will not follow up again.\n\n"
        + _SIGN_OFF,
    ),
    "Automation: birthday greeting": (
        "general",
        "Happy birthday, {{ candidate.first_name }}!",
        "Hi {{ candidate.first_name }},\n\nEveryone at {{ company.name }} wishes you a very happy birthday!\n\n"
        "[Stop birthday emails]({{ preferences_link }})",
    ),
    "Automation: re-engagement": (
        "nurture",
        "Still open to new opportunities?",
        "Hi {{ candidate.first_name }},\n\n"
        "It has been a while since we were last in touch. Is your situation still the same? "
        "Have a look at [our open roles]({{ company.careers_link }}), or reply to tell us what you are "
        "looking for now.\n\n" + _SIGN_OFF + "\n\n[Unsubscribe]({{ unsubscribe_link }})",
    ),
    "Automation: job alert": (
        "nurture",
        "A new role{% if job %}: {{ job.title }}{% endif %}",
        "Hi {{ candidate.first_name }},\n\n"
        "A role that matches the interests you gave us has just opened{% if job %}: **{{ job.title }}**"
        "{% if job.location %} ({{ job.location }}){% endif %}{% endif %}.\n\n"
        "See it and apply on [our career site]({{ company.careers_link }}).\n\n" + _SIGN_OFF + "\n\n"
        "[Change what you hear about]({{ preferences_link }}) · [Unsubscribe]({{ unsubscribe_link }})",
    ),
}


def _t(
    key: str,
    name: str,
    event: str,
    action: str,
    *,
    enabled: bool,
    description: str,
    template: str | None = None,
    conditions: list[dict[str, Any]] | None = None,
    delay_minutes: int = 0,
    config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "event": event,
        "action": action,
        "enabled": enabled,
        "description": description,
        "template": template,
        "conditions": conditions or [],
        "delay_minutes": delay_minutes,
        "config": config or {},
    }


DEFAULT_TRIGGERS: list[dict[str, Any]] = [
    _t(
        "application_received_ack",
        "Application received: acknowledgement",
        "application.created",
        "send_message",
        enabled=False,
        template="Automation: application received",
        config={"skip_if_messaged": True},
        description="Thanks the person for applying. Off: the career site already acknowledges its applications; "
        "this one is for applications added another way, and skips anyone who already got a message about it.",
    ),
    _t(
        "stage_entered_template",
        "Stage entered: the stage's template, or a task",
        "application.stage_changed",
        "send_message",
        enabled=False,
        config={"stage_template": True, "else_task": {"title": "Follow up: {candidate} entered {stage}", "days": 1}},
        description="Sends the new stage's default template; when the stage has none, gives the job's recruiter a "
        "task instead. Off: teams usually review before writing.",
    ),
    _t(
        "rejected_message",
        "Rejected: the reason and some encouragement",
        "application.rejected",
        "send_message",
        enabled=True,
        template="Automation: rejection",
        conditions=[
            {"field": "application.stage_category", "op": "ne", "value": "sourced"},
            {"field": "payload.notify", "op": "ne", "value": True},
        ],
        delay_minutes=DAY,
        config={"details": True},
        description="A day after a rejection, tells the person with the reason and encourages them to apply again. "
        "Not for people who were only sourced and never applied, nor when the rejection was emailed already.",
    ),
    _t(
        "rejected_pool",
        "Rejected: keep in the talent pool",
        "application.rejected",
        "add_to_pool",
        enabled=True,
        delay_minutes=DAY,
        config={"pool": "Past applicants"},
        description="Adds the person to the “Past applicants” pool, so they can be found for the next role.",
    ),
    _t(
        "rejected_nurture",
        "Rejected: nurture sequence weeks later",
        "application.rejected",
        "enrol",
        enabled=False,
        delay_minutes=6 * 7 * DAY,
        description="Six weeks after a rejection, enrols the person in a nurture sequence. "
        "Choose the sequence, then switch it on.",
    ),
    _t(
        "interview_reminders",
        "Interview scheduled: reminders 24 h and 2 h before",
        "meeting.scheduled",
        "send_message",
        enabled=True,
        template="Automation: interview reminder",
        config={"anchor": "payload.starts_at", "offsets": [-DAY, -120], "details": True},
        description="Reminds the person of the interview a day and two hours before, with the time in their own "
        "time zone, where, how to prepare and the documents to bring.",
    ),
    _t(
        "interview_feedback",
        "After an interview: ask for feedback",
        "meeting.logged",
        "send_message",
        enabled=False,
        template="Automation: interview feedback request",
        delay_minutes=2 * 60,
        description="Two hours after a meeting is logged, asks the person how the interview felt. Off until the team "
        "decides it wants candidate feedback.",
    ),
    _t(
        "survey_after_interview",
        "After an interview: candidate experience survey",
        "meeting.logged",
        "send_survey",
        enabled=False,
        delay_minutes=24 * 60,
        config={"moment": "after_interview"},
        description="A day after a meeting is logged, sends the active “after an interview” survey (at most one survey "
        "per person per cool-down). Off until the team wants survey results rather than the feedback email.",
    ),
    _t(
        "survey_after_decision",
        "After a decision: survey",
        "application.rejected",
        "send_survey",
        enabled=False,
        delay_minutes=3 * 24 * 60,
        config={"moment": "after_decision"},
        description="Three days after a rejection, sends the active “after a decision” survey, so people answer once "
        "the news has settled.",
    ),
    _t(
        "offer_accepted_welcome",
        "Offer accepted: welcome",
        "offer.accepted",
        "send_message",
        enabled=True,
        template="Automation: offer accepted welcome",
        delay_minutes=60,
        config={"details": True},
        description="An hour after an offer is accepted, welcomes the person and confirms the start date.",
    ),
    _t(
        "offer_accepted_prejoining",
        "Offer accepted: touches before the start date",
        "offer.accepted",
        "send_message",
        enabled=True,
        template="Automation: before your first day",
        config={"anchor": "start_date", "offsets": [-14 * DAY, -3 * DAY], "details": True},
        description="Two weeks and three days before the start date, tells the person what to expect, so fewer "
        "offers are dropped before day one. A touch whose time has passed when the offer is accepted is left out.",
    ),
    _t(
        "hired_checkins",
        "Hired: check-ins after 30, 60 and 90 days",
        "application.hired",
        "send_message",
        enabled=True,
        template="Automation: new joiner check-in",
        config={"anchor": "start_date", "offsets": [30 * DAY, 60 * DAY, 90 * DAY]},
        description="Checks in with the new joiner 30, 60 and 90 days after their start date (the accepted offer's, "
        "else the day they were hired).",
    ),
    _t(
        "hired_manager_checkins",
        "Hired: hiring manager check-ins",
        "application.hired",
        "create_task",
        enabled=True,
        config={
            "anchor": "start_date",
            "offsets": [30 * DAY, 60 * DAY, 90 * DAY],
            "title": "Check in on {candidate} ({job})",
            "owner": "hiring_manager",
            "days": 2,
        },
        description="Gives the job's hiring manager (or its recruiter) a task to check in on the new joiner 30, 60 "
        "and 90 days after the start date.",
    ),
    _t(
        "outreach_follow_up",
        "Outreach unanswered for 4 days: follow up",
        "message.sent",
        "send_message",
        enabled=False,
        template="Automation: outreach follow-up",
        conditions=[{"field": "message.template_category", "op": "eq", "value": "outreach"}],
        delay_minutes=4 * DAY,
        config={"unless_replied": True},
        description="Four days after an outreach email, follows up once, unless the person replied in the "
        "meantime. Off: most teams follow up by hand or with a sequence.",
    ),
    _t(
        "birthday_greeting",
        "Birthday greeting",
        "candidate.birthday",
        "send_message",
        enabled=True,
        template="Automation: birthday greeting",
        description="Wishes a happy birthday at 09:00 in the person's time zone, only to people who opted in "
        f"(consent “{BIRTHDAY_CONSENT}”).",
    ),
    _t(
        "inactive_reengagement",
        "Inactive for 12 months: re-engage",
        "candidate.inactive",
        "send_message",
        enabled=False,
        template="Automation: re-engagement",
        conditions=[
            {
                "field": "candidate.relationship_status",
                "op": "in",
                "value": ["lead", "contacted", "engaged", "nurturing", "alumni"],
            }
        ],
        config={"months": 12},
        description="Writes to leads, nurtured people and alumni nobody has touched for a year. Off until the team "
        "decides how often to re-engage.",
    ),
    _t(
        "job_alert",
        "Job opens: alert people interested in it",
        "job.opened",
        "send_message",
        enabled=True,
        template="Automation: job alert",
        conditions=[{"field": "payload.reopened", "op": "eq", "value": False}],
        config={"audience": "interested"},
        description="When a job first opens, alerts the talent community members who chose its department as an "
        "interest on the career site (and agreed to hear from us).",
    ),
]
