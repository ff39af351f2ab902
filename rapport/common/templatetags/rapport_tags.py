"""Template helpers shared by every workspace page: avatars, icons, badges and small formatting filters."""

import datetime
import zlib
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

AVATAR_COLOURS = 12

# Lucide-style 24px stroke icons, inlined so pages need no icon font or sprite request.
ICONS: dict[str, str] = {
    "users": '<path d="M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2"/><circle cx="9" cy="7" r="4"/>'
    '<path d="M22 21v-2a4 4 0 0 0-3-3.87"/><path d="M16 3.13a4 4 0 0 1 0 7.75"/>',
    "briefcase": '<rect x="2" y="7" width="20" height="14" rx="2"/><path d="M16 21V5a2 2 0 0 0-2-2h-4a2 2 0 0 0-2 2v16"/>',
    "layers": '<path d="m12 2 10 5-10 5L2 7z"/><path d="m2 17 10 5 10-5"/><path d="m2 12 10 5 10-5"/>',
    "upload": '<path d="M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4"/><path d="m17 8-5-5-5 5"/><path d="M12 3v12"/>',
    "download": '<path d="M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4"/><path d="m7 10 5 5 5-5"/><path d="M12 15V3"/>',
    "settings": '<circle cx="12" cy="12" r="3"/><path d="M19.4 15a1.65 1.65 0 0 0 .33 1.82l.06.06a2 2 0 1 1-2.83 '
    "2.83l-.06-.06a1.65 1.65 0 0 0-1.82-.33 1.65 1.65 0 0 0-1 1.51V21a2 2 0 1 1-4 0v-.09A1.65 1.65 0 0 0 9 "
    "19.4a1.65 1.65 0 0 0-1.82.33l-.06.06a2 2 0 1 1-2.83-2.83l.06-.06A1.65 1.65 0 0 0 4.68 15a1.65 1.65 0 0 "
    "0-1.51-1H3a2 2 0 1 1 0-4h.09A1.65 1.65 0 0 0 4.6 9a1.65 1.65 0 0 0-.33-1.82l-.06-.06a2 2 0 1 1 "
    "2.83-2.83l.06.06A1.65 1.65 0 0 0 9 4.68a1.65 1.65 0 0 0 1-1.51V3a2 2 0 1 1 4 0v.09a1.65 1.65 0 0 0 1 "
    "1.51 1.65 1.65 0 0 0 1.82-.33l.06-.06a2 2 0 1 1 2.83 2.83l-.06.06A1.65 1.65 0 0 0 19.4 9a1.65 1.65 0 0 0 "
    '1.51 1H21a2 2 0 1 1 0 4h-.09a1.65 1.65 0 0 0-1.51 1z"/>',
    "search": '<circle cx="11" cy="11" r="8"/><path d="m21 21-4.3-4.3"/>',
    "plus": '<path d="M12 5v14"/><path d="M5 12h14"/>',
    "x": '<path d="M18 6 6 18"/><path d="m6 6 12 12"/>',
    "check": '<path d="M20 6 9 17l-5-5"/>',
    "menu": '<path d="M4 6h16"/><path d="M4 12h16"/><path d="M4 18h16"/>',
    "filter": '<path d="M22 3H2l8 9.46V19l4 2v-8.54z"/>',
    "note": '<path d="M14.5 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V7.5z"/><path d="M14 2v6h6"/>'
    '<path d="M16 13H8"/><path d="M16 17H8"/>',
    "phone": '<path d="M22 16.92v3a2 2 0 0 1-2.18 2 19.8 19.8 0 0 1-8.63-3.07 19.5 19.5 0 0 1-6-6A19.8 19.8 0 0 1 '
    "2.12 4.18 2 2 0 0 1 4.11 2h3a2 2 0 0 1 2 1.72c.13.96.36 1.9.7 2.81a2 2 0 0 1-.45 2.11L8.09 9.91a16 16 0 0 "
    '0 6 6l1.27-1.27a2 2 0 0 1 2.11-.45c.9.34 1.85.57 2.81.7A2 2 0 0 1 22 16.92z"/>',
    "mail": '<rect x="2" y="4" width="20" height="16" rx="2"/><path d="m22 7-10 6L2 7"/>',
    "calendar": '<rect x="3" y="4" width="18" height="18" rx="2"/><path d="M16 2v4"/><path d="M8 2v4"/>'
    '<path d="M3 10h18"/>',
    "map-pin": '<path d="M20 10c0 6-8 12-8 12s-8-6-8-12a8 8 0 0 1 16 0z"/><circle cx="12" cy="10" r="3"/>',
    "clock": '<circle cx="12" cy="12" r="10"/><path d="M12 6v6l4 2"/>',
    "user": '<path d="M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2"/><circle cx="12" cy="7" r="4"/>',
    "tag": '<path d="M12.586 2.586A2 2 0 0 0 11.172 2H4a2 2 0 0 0-2 2v7.172a2 2 0 0 0 .586 1.414l8.704 '
    '8.704a2.426 2.426 0 0 0 3.42 0l6.58-6.58a2.426 2.426 0 0 0 0-3.42z"/><circle cx="7.5" cy="7.5" r=".5"/>',
    "edit": '<path d="M12 20h9"/><path d="M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4Z"/>',
    "trash": '<path d="M3 6h18"/><path d="M19 6v14a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2V6"/>'
    '<path d="M8 6V4a2 2 0 0 1 2-2h4a2 2 0 0 1 2 2v2"/>',
    "merge": '<circle cx="18" cy="18" r="3"/><circle cx="6" cy="6" r="3"/><path d="M6 21V9a9 9 0 0 0 9 9"/>',
    "paperclip": '<path d="m21.44 11.05-9.19 9.19a6 6 0 0 1-8.49-8.49l8.57-8.57A4 4 0 1 1 18 8.84l-8.59 '
    '8.57a2 2 0 0 1-2.83-2.83l8.49-8.48"/>',
    "link": '<path d="M10 13a5 5 0 0 0 7.54.54l3-3a5 5 0 0 0-7.07-7.07l-1.72 1.71"/>'
    '<path d="M14 11a5 5 0 0 0-7.54-.54l-3 3a5 5 0 0 0 7.07 7.07l1.71-1.71"/>',
    "arrow-right": '<path d="M5 12h14"/><path d="m12 5 7 7-7 7"/>',
    "chevron-down": '<path d="m6 9 6 6 6-6"/>',
    "more": '<circle cx="12" cy="12" r="1"/><circle cx="19" cy="12" r="1"/><circle cx="5" cy="12" r="1"/>',
    "activity": '<path d="M22 12h-4l-3 9L9 3l-3 9H2"/>',
    "message": '<path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/>',
    "star": '<path d="m12 2 3.09 6.26L22 9.27l-5 4.87 1.18 6.88L12 17.77l-6.18 3.25L7 14.14 2 9.27l6.91-1.01z"/>',
    "keyboard": '<rect x="2" y="4" width="20" height="16" rx="2"/><path d="M6 8h.01M10 8h.01M14 8h.01M18 8h.01'
    'M8 12h.01M12 12h.01M16 12h.01M7 16h10"/>',
    "log-out": '<path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4"/><path d="m16 17 5-5-5-5"/><path d="M21 12H9"/>',
    "key": '<circle cx="7.5" cy="15.5" r="5.5"/><path d="m21 2-9.6 9.6"/><path d="m15.5 7.5 3 3L22 7l-3-3"/>',
    "alert": '<path d="m21.73 18-8-14a2 2 0 0 0-3.48 0l-8 14A2 2 0 0 0 4 21h16a2 2 0 0 0 1.73-3"/>'
    '<path d="M12 9v4"/><path d="M12 17h.01"/>',
    "globe": '<circle cx="12" cy="12" r="10"/><path d="M2 12h20"/>'
    '<path d="M12 2a15.3 15.3 0 0 1 4 10 15.3 15.3 0 0 1-4 10 15.3 15.3 0 0 1-4-10 15.3 15.3 0 0 1 4-10z"/>',
    "file": '<path d="M14.5 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V7.5z"/><path d="M14 2v6h6"/>',
    "refresh": '<path d="M21 12a9 9 0 0 0-9-9 9.75 9.75 0 0 0-6.74 2.74L3 8"/><path d="M3 3v5h5"/>'
    '<path d="M3 12a9 9 0 0 0 9 9 9.75 9.75 0 0 0 6.74-2.74L21 16"/><path d="M16 16h5v5"/>',
}


@register.simple_tag
def icon(name: str, css_class: str = "icon") -> SafeString:
    """An inline SVG icon; decorative, so hidden from assistive technology."""
    paths = ICONS.get(name, ICONS["file"])
    return mark_safe(
        f'<svg class="{css_class}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" '
        f'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" '
        f'aria-hidden="true" focusable="false">{paths}</svg>'
    )


@register.filter
def avatar_colour(name: object) -> int:
    """A stable colour index for a name, so one person keeps one colour on every page."""
    return zlib.crc32(str(name or "").strip().lower().encode()) % AVATAR_COLOURS


@register.filter
def initials(name: object) -> str:
    parts = [p for p in str(name or "").replace("@", " ").split() if p[:1].isalnum()]
    if not parts:
        return "?"
    if len(parts) == 1:
        return parts[0][:2].upper()
    return (parts[0][0] + parts[-1][0]).upper()


@register.simple_tag
def avatar(name: object, size: str = "") -> SafeString:
    size_class = f" avatar--{size}" if size else ""
    return format_html(
        '<span class="avatar{} avatar--c{}" aria-hidden="true">{}</span>',
        size_class,
        avatar_colour(name),
        initials(name),
    )


@register.simple_tag
def status_badge(value: str, label: str = "") -> SafeString:
    """A relationship-status badge, coloured the same everywhere."""
    from rapport.candidates.models import RelationshipStatus

    text = label or dict(RelationshipStatus.choices).get(value, value)
    return format_html('<span class="badge badge--{}">{}</span>', value, text)


@register.simple_tag
def stage_badge(category: str, label: str) -> SafeString:
    return format_html('<span class="badge badge--stage-{}">{}</span>', category, label)


@register.filter
def local_time(tz_name: str) -> str:
    """The current wall-clock time in an IANA time zone ('' when unknown), e.g. '14:05'."""
    if not tz_name:
        return ""
    try:
        now = timezone.now().astimezone(ZoneInfo(tz_name))
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    return now.strftime("%H:%M")


@register.filter
def days_since(value: datetime.datetime | datetime.date | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return max(0, (timezone.now() - value).days)
    return max(0, (timezone.localdate() - value).days)


@register.filter
def filesize(num: int | None) -> str:
    if num is None:
        return ""
    size = float(num)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


@register.filter
def get_item(mapping: object, key: object) -> object:
    try:
        return mapping[key]  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        return None


@register.simple_tag(takes_context=True)
def nav_active(context: template.Context, *prefixes: str) -> str:
    """'is-active' when the current path is under one of the prefixes ('/' matches only the candidates area)."""
    request = context.get("request")
    path = getattr(request, "path", "") or ""
    for prefix in prefixes:
        if prefix == "/":
            if path == "/" or path.startswith("/candidates/"):
                return "is-active"
        elif path.startswith(prefix):
            return "is-active"
    return ""


@register.simple_tag
def can(user: object, capability: str) -> bool:
    """`{% can request.user "edit_candidates" as can_edit %}`: the role check from accounts.permissions."""
    from rapport.accounts.permissions import Capability
    from rapport.accounts.permissions import can as can_do

    try:
        return can_do(user, Capability(capability))  # type: ignore[arg-type]
    except ValueError:
        return False


def _join_words(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


# Field names as a recruiter says them, for "Riley updated Grace's email and title".
FIELD_WORDS = {
    "first_name": "first name",
    "last_name": "last name",
    "headline": "headline",
    "current_title": "title",
    "current_company": "company",
    "city": "city",
    "region": "region",
    "country": "country",
    "timezone": "time zone",
    "skills": "skills",
    "links": "links",
    "owner_id": "owner",
    "relationship_status": "relationship status",
    "birthday": "birthday",
    "preferred_channel": "preferred channel",
    "custom_fields": "custom fields",
    "emails": "emails",
    "phones": "phones",
    "language": "language",
    "source": "source",
}
ACTIVITY_ICONS = {
    "note.added": ("note", "note"),
    "call.logged": ("phone", "call"),
    "meeting.logged": ("calendar", "meeting"),
    "application.created": ("briefcase", "application"),
    "application.stage_changed": ("arrow-right", "application"),
    "application.hired": ("star", "application"),
    "application.rejected": ("x", "danger"),
    "application.withdrawn": ("x", ""),
    "tag.added": ("tag", ""),
    "tag.removed": ("tag", ""),
    "pool.added": ("layers", ""),
    "pool.removed": ("layers", ""),
    "document.uploaded": ("paperclip", ""),
    "document.requested": ("file", ""),
    "feedback.shared": ("message", "application"),
    "candidate.merged": ("merge", ""),
    "candidate.erased": ("trash", "danger"),
    "candidate.created": ("plus", ""),
    "candidate.updated": ("edit", ""),
    "task.created": ("check", ""),
    "task.completed": ("check", "application"),
    "sequence.enrolled": ("activity", ""),
    "sequence.exited": ("activity", ""),
    "trigger.ran": ("activity", ""),
    "meeting.scheduled": ("calendar", "meeting"),
    "offer.accepted": ("star", "application"),
    "survey.sent": ("message", ""),
    "survey.answered": ("star", ""),
}


@register.simple_tag
def activity_icon(activity_type: str) -> SafeString:
    name, tone = ACTIVITY_ICONS.get(
        activity_type, ("message" if activity_type.startswith("message.") else "activity", "")
    )
    if activity_type.startswith("message.") and not tone:
        tone = "message"
    modifier = f" timeline__icon--{tone}" if tone else ""
    return format_html('<span class="timeline__icon{}">{}</span>', modifier, icon(name))


def strong(text: object) -> SafeString:
    return format_html("<strong>{}</strong>", text)


@register.simple_tag
def activity_sentence(activity: object, subject_name: str = "") -> SafeString:
    """One event as a sentence a recruiter reads at a glance ("Riley moved Grace from Screening to Interview …")."""
    kind = getattr(activity, "type", "")
    payload = getattr(activity, "payload", None) or {}
    actor = getattr(activity, "actor", None)
    who = (getattr(actor, "name", "") or getattr(actor, "email", "")) if actor else "Rapport"
    person = subject_name or "this person"
    job = getattr(activity, "job", None)
    job_title = payload.get("job") or (job.title if job else "") or "a job"

    if kind == "note.added":
        return format_html("{} added a note", strong(who))
    if kind in ("call.logged", "meeting.logged"):
        what = "a call" if kind == "call.logged" else "a meeting"
        details = []
        if payload.get("duration_minutes"):
            details.append(f"{payload['duration_minutes']} min")
        if payload.get("outcome"):
            details.append(str(payload["outcome"]).replace("_", " "))
        suffix = f" ({', '.join(details)})" if details else ""
        return format_html("{} logged {} with {}{}", strong(who), what, person, suffix)
    if kind == "application.created":
        stage = payload.get("stage")
        if stage:
            return format_html("{} added {} to {} in {}", strong(who), person, strong(job_title), stage)
        return format_html("{} added {} to {}", strong(who), person, strong(job_title))
    if kind == "application.stage_changed":
        return format_html(
            "{} moved {} from {} to {} on {}",
            strong(who),
            person,
            payload.get("from_stage", "a stage"),
            strong(payload.get("to_stage", "a stage")),
            strong(job_title),
        )
    if kind == "application.rejected":
        reason = payload.get("reason")
        if reason:
            return format_html(
                "{} rejected {} for {} at {}: {}",
                strong(who),
                person,
                strong(job_title),
                payload.get("stage", ""),
                reason,
            )
        return format_html(
            "{} rejected {} for {} at {}", strong(who), person, strong(job_title), payload.get("stage", "")
        )
    if kind == "application.withdrawn":
        if actor is None:
            return format_html("{} withdrew from {} in the candidate portal", person, strong(job_title))
        return format_html("{} withdrew from {} (recorded by {})", person, strong(job_title), who)
    if kind == "application.hired":
        return format_html("{} was hired for {}", strong(person), strong(job_title))
    if kind == "candidate.created":
        source = payload.get("source")
        if source:
            return format_html("{} added {} (source: {})", strong(who), person, source)
        return format_html("{} added {}", strong(who), person)
    if kind == "candidate.updated":
        words = [FIELD_WORDS.get(f, f.replace("_", " ")) for f in payload.get("fields", [])]
        if words:
            return format_html("{} updated {}’s {}", strong(who), person, _join_words(words))
        return format_html("{} updated {}", strong(who), person)
    if kind == "candidate.merged":
        return format_html(
            "{} merged {} into {}", strong(who), strong(payload.get("name") or "a duplicate record"), person
        )
    if kind == "candidate.erased":
        return format_html("{} erased this person’s personal data", strong(who))
    if kind == "tag.added":
        return format_html("{} tagged {} with {}", strong(who), person, strong(payload.get("tag", "")))
    if kind == "tag.removed":
        return format_html("{} removed the tag {}", strong(who), strong(payload.get("tag", "")))
    if kind == "pool.added":
        reason = payload.get("reason")
        if reason:
            return format_html(
                "{} added {} to the pool {}: “{}”", strong(who), person, strong(payload.get("pool", "")), reason
            )
        return format_html("{} added {} to the pool {}", strong(who), person, strong(payload.get("pool", "")))
    if kind == "pool.removed":
        return format_html("{} removed {} from the pool {}", strong(who), person, strong(payload.get("pool", "")))
    if kind == "document.uploaded" and payload.get("request"):
        # Sent by the person in the candidate portal, answering a document request.
        return format_html(
            "{} uploaded the requested {} in the candidate portal: {}",
            person,
            strong(payload["request"]),
            payload.get("name", ""),
        )
    if kind == "document.uploaded":
        kind_label = {"resume": "a résumé", "cover_letter": "a cover letter"}.get(payload.get("kind", ""), "a file")
        return format_html("{} uploaded {}: {}", strong(who), kind_label, payload.get("name", ""))
    if kind == "document.requested":
        due = f" (due {payload['due_on']})" if payload.get("due_on") else ""
        return format_html("{} asked {} for {}{}", strong(who), person, strong(payload.get("name", "a document")), due)
    if kind == "feedback.shared":
        return format_html(
            "{} shared feedback with {} on {}: “{}”", strong(who), person, strong(job_title), payload.get("snippet", "")
        )
    if kind.startswith("message."):
        return _message_event(kind, payload, who, person)
    if kind == "task.created":
        by = "Automation" if payload.get("source") not in (None, "", "manual") else strong(who)
        return format_html("{} added a task about {}: {}", by, person, strong(payload.get("title", "")))
    if kind == "task.completed":
        return format_html("{} completed the task {}", strong(who), strong(payload.get("title", "")))
    if kind == "sequence.enrolled":
        how = {"segment": " (they matched its segment)", "trigger": " (by a trigger)"}.get(payload.get("source"), "")
        by = strong(who) if actor else "Automation"
        return format_html("{} enrolled {} in the sequence {}{}", by, person, strong(payload.get("sequence", "")), how)
    if kind == "sequence.exited":
        return format_html(
            "{} left the sequence {}: {}",
            person,
            strong(payload.get("sequence", "")),
            payload.get("detail") or str(payload.get("reason", "")).replace("_", " "),
        )
    if kind == "trigger.ran":
        detail = payload.get("detail") or ""
        return format_html(
            "Automation ran the trigger {} for {}{}",
            strong(payload.get("trigger", "")),
            person,
            format_html(": {}", detail) if detail else "",
        )
    if kind == "meeting.scheduled":
        title = payload.get("title") or "a meeting"
        return format_html("{} scheduled {} with {} for {}", strong(who), strong(title), person, _when(payload))
    if kind == "offer.accepted":
        start = payload.get("start_date")
        if start:
            return format_html("{} accepted the offer for {}, starting {}", person, strong(job_title), start)
        return format_html("{} accepted the offer for {}", person, strong(job_title))
    if kind == "survey.sent":
        return format_html("{} sent {} the survey {}", strong(who), person, strong(payload.get("survey", "")))
    if kind == "survey.answered":
        if payload.get("anonymous"):
            return format_html("{} answered the anonymous survey {}", person, strong(payload.get("survey", "")))
        return format_html("{} answered the survey {}", person, strong(payload.get("survey", "")))
    if kind == "candidate.unsubscribed":
        return format_html("{} unsubscribed from {}", person, payload.get("channel", "email"))
    if kind == "consent.given":
        return format_html("{} agreed to hear from us again by {}", person, payload.get("channel", "email"))
    if kind == "consent.withdrawn" and payload.get("purpose"):
        return format_html("{} withdrew their consent to {}", person, strong(payload["purpose"].replace("_", " ")))
    if kind == "portal.visited":
        return format_html("{} signed in to the candidate portal", person)
    if kind == "deletion.requested":
        return format_html("{} asked to have their personal data deleted (an admin confirms it)", person)
    if kind == "deletion.declined":
        return format_html("{} declined {}’s request to delete their data", strong(who), person)
    if kind == "consent.withdrawn":
        return format_html(
            "{} can no longer be sent {}: {}", person, payload.get("channel", "email"), payload.get("reason", "")
        )
    return format_html("{} · {}", strong(who), kind.replace(".", " ").replace("_", " "))


def _when(payload: dict) -> str:
    """A meeting's start as the team reads it: in the organisation's time zone, with the zone named."""
    from datetime import datetime

    from django.utils import timezone as dj_timezone

    raw = payload.get("starts_at") or ""
    try:
        starts = datetime.fromisoformat(raw)
    except ValueError:
        return raw or "a time to be agreed"
    local = dj_timezone.localtime(starts) if dj_timezone.is_aware(starts) else starts
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({local.tzname()})"


_CHANNEL_NOUN = {"email": "an email", "sms": "a text", "whatsapp": "a WhatsApp message"}
_CHANNEL_NAME = {"email": "Email", "sms": "Text", "whatsapp": "WhatsApp message"}


def _message_event(kind: str, payload: dict, who: str, person: str) -> SafeString:
    """Timeline wording for the message events, by channel: texts have no subject, so they show their words."""
    channel = payload.get("channel") or "email"
    noun, name = _CHANNEL_NOUN.get(channel, "a message"), _CHANNEL_NAME.get(channel, "Message")
    about = payload.get("subject") or payload.get("snippet") or ""
    tail = format_html(": {}", strong(about)) if about else ""
    if kind == "message.queued":
        verb = "scheduled" if payload.get("scheduled_for") else "wrote"
        if payload.get("sequence"):
            # An automated touch says which sequence (and step) sent it.
            return format_html(
                "The sequence {} queued {} to {} (step {}){}",
                strong(payload["sequence"]),
                noun,
                person,
                int(payload.get("step") or 0) + 1,
                tail,
            )
        return format_html("{} {} {} to {}{}", strong(who), verb, noun, person, tail)
    if kind == "message.received":
        how = "" if channel == "email" else format_html(" by {}", {"sms": "text", "whatsapp": "WhatsApp"}[channel])
        return format_html("{} replied{}{}", person, how, tail)
    if kind == "message.failed":
        status = "not sent" if payload.get("status") == "suppressed" else "failed"
        return format_html("{} {} to {}{} ({})", name, status, person, tail, payload.get("reason") or "")
    verb = {
        "message.sent": "sent to",
        "message.delivered": "delivered to",
        "message.opened": "opened by",
        "message.clicked": "clicked by",
        "message.bounced": "bounced for",
    }.get(kind)
    if verb is None:
        return format_html("{} {}{}", name, kind.split(".", 1)[1].replace("_", " "), tail)
    return format_html("{} {} {}{}", name, verb, person, tail)


@register.filter
def ago(value: datetime.datetime | None) -> str:
    """A compact age for dense tables: "5m ago", "3h ago", "2d ago", "4mo ago"."""
    if not value:
        return ""
    seconds = max(0, int((timezone.now() - value).total_seconds()))
    for limit, size, unit in (
        (60, 1, "s"),
        (3600, 60, "m"),
        (86400, 3600, "h"),
        (86400 * 14, 86400, "d"),
        (86400 * 60, 86400 * 7, "w"),
        (86400 * 365, 86400 * 30, "mo"),
    ):
        if seconds < limit:
            return "just now" if unit == "s" else f"{seconds // size}{unit} ago"
    return f"{seconds // (86400 * 365)}y ago"


@register.filter
def location_line(person: object) -> str:
    """ "Berlin, DE" or "Austin, Texas, US", without repeating a region that equals the city."""
    city = getattr(person, "city", "") or ""
    region = getattr(person, "region", "") or ""
    country = getattr(person, "country", "") or ""
    parts = [city]
    if region and region.lower() != city.lower():
        parts.append(region)
    parts.append(country)
    return ", ".join(p for p in parts if p)
