"""Approved WhatsApp templates (Twilio's Content API): the Content SID and numbered variables a template carries.

WhatsApp lets a business write free-form text only within 24 hours of the person's last message to it; outside that
window only a template Meta approved may be sent, named by its Content SID (`HX…`) with its numbered variables
filled in (`{"1": "Ada", "2": "Backend engineer"}`). A Rapport WhatsApp template keeps which merge field fills each
variable; the fields are checked on save like any template text, and filled in per person at send time.
"""

import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from rapport.common.errors import FieldErrors, ValidationFailed
from rapport.messaging.channels.base import PermanentError
from rapport.messaging.models import Message, MessageDirection, MessageTemplate, TemplateChannel
from rapport.messaging.rendering import FIELDS, check_source, render_text

CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")
FIELD_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
MAX_VARIABLES = 30
WINDOW = timedelta(hours=24)

OUTSIDE_WINDOW = "Not sent: outside WhatsApp's 24-hour window"
SINCE = "the person has not written to us on WhatsApp in the last 24 hours"
NO_APPROVED_TEMPLATE = (
    f"{OUTSIDE_WINDOW}; this template has no approved WhatsApp template ({SINCE}: add the Content SID of its "
    "approved template, or wait for them to write)."
)
NO_TEMPLATE = f"{OUTSIDE_WINDOW}; only a template with an approved WhatsApp template can be sent ({SINCE})."


def _variable_path(raw: Any) -> str:
    path = raw.strip() if isinstance(raw, str) else ""
    # "{{ candidate.first_name }}" is what people copy from the body; the field inside is what is meant.
    if path.startswith("{{") and path.endswith("}}"):
        path = path[2:-2].strip()
    return path


def _variable_problem(path: str, custom_keys: list[str]) -> str | None:
    """Why `path` cannot fill a variable, or None: the template system's own check of merge fields."""
    if not FIELD_PATH.fullmatch(path):
        return "Give one merge field, such as candidate.first_name."
    problems = check_source("{{ " + path + " }}", custom_keys=custom_keys)
    if problems:
        return problems[0].message[:1].upper() + problems[0].message[1:] + "."
    if path in FIELDS or path == "candidate.custom":
        first = next(iter(FIELDS.get(path, {"key": ""})))
        return f"{path} is a group of fields; name one, such as {path}.{first}."
    return None


def whatsapp_content_clean(
    *, channel: str, content_sid: Any, variables: Any, custom_keys: list[str], errors: FieldErrors
) -> tuple[str, dict[str, str]]:
    """The Content SID and variables to store, with each problem added to `errors` under its field.

    Errors are named `whatsapp_content_sid`, `whatsapp_variables`, or `whatsapp_variables.<n>` for one variable.
    """
    sid = content_sid.strip() if isinstance(content_sid, str) else ""
    if content_sid is not None and not isinstance(content_sid, str):
        errors.add("whatsapp_content_sid", "Must be text.")
    elif sid and not CONTENT_SID.fullmatch(sid):
        errors.add(
            "whatsapp_content_sid",
            "Use the Content SID of the approved WhatsApp template: HX followed by 32 hexadecimal characters.",
        )
    if variables is None:
        variables = {}
    cleaned: dict[str, str] = {}
    if not isinstance(variables, Mapping):
        errors.add("whatsapp_variables", 'Give the variables as {"1": "candidate.first_name", …}.')
        variables = {}
    elif len(variables) > MAX_VARIABLES:
        errors.add("whatsapp_variables", f"Use at most {MAX_VARIABLES} variables.")
        variables = {}
    numbers = sorted(int(k) for k in variables if isinstance(k, str) and k.isdigit() and not k.startswith("0"))
    if len(numbers) != len(variables) or numbers != list(range(1, len(numbers) + 1)):
        errors.add("whatsapp_variables", "Number the variables 1, 2, 3… as in the approved template, without gaps.")
    for key, raw in variables.items():
        path = _variable_path(raw)
        problem = _variable_problem(path, custom_keys)
        if problem:
            errors.add(f"whatsapp_variables.{key}", problem)
        cleaned[str(key)] = path
    if channel != TemplateChannel.WHATSAPP and (sid or cleaned):
        errors.add("whatsapp_content_sid", "Only a WhatsApp template can have an approved WhatsApp template.")
    elif cleaned and not sid:
        errors.add("whatsapp_content_sid", "Give the Content SID of the approved template these variables fill.")
    return sid, dict(sorted(cleaned.items(), key=lambda item: int(item[0]) if item[0].isdigit() else 0))


# --- sending --------------------------------------------------------------------------------------------------------


def within_window(message: Message, *, now: datetime) -> bool:
    """Whether the person wrote to us on WhatsApp, from the number we are writing to, in the last 24 hours."""
    return Message.objects.filter(
        candidate_id=message.candidate_id,
        channel=TemplateChannel.WHATSAPP,
        direction=MessageDirection.INBOUND,
        from_address=message.to_address,
        created_at__gt=now - WINDOW,
    ).exists()


def _context(message: Message) -> dict[str, Any]:
    """The merge fields for this message's person, job and sender, as `message_render` gave its body."""
    from rapport.messaging.links import preferences_url, unsubscribe_url
    from rapport.messaging.selectors import merge_context

    context = merge_context(
        candidate=message.candidate, job=message.job, application=message.application, sender=message.sent_by
    )
    links = {"address": message.to_address, "channel": message.channel, "candidate_id": message.candidate_id}
    context["unsubscribe_link"] = unsubscribe_url(**links)
    context["preferences_link"] = preferences_url(**links)
    return context


def content_variables(*, template: MessageTemplate, message: Message) -> str:
    """The template's variables filled in for this message's person, as the JSON Twilio's ContentVariables takes.

    Raises PermanentError naming the variable when a field cannot be filled (a job field with no job) or is empty
    for this person: WhatsApp refuses a template with an empty variable, so it is refused here first.
    """
    variables = template.whatsapp_variables or {}
    if not variables:
        return ""
    context = _context(message)
    filled: dict[str, str] = {}
    for key, path in variables.items():
        try:
            value = render_text("{{ " + path + " }}", context, field=f"whatsapp_variables.{key}")
        except ValidationFailed as exc:
            raise PermanentError(f"WhatsApp template variable {key} ({path}): {exc.message}"[:500])
        value = " ".join(value.split())
        if not value:
            raise PermanentError(
                f"WhatsApp template variable {key} ({path}) is empty for this person, and WhatsApp refuses empty "
                "variables."
            )
        filled[key] = value
    return json.dumps(filled, ensure_ascii=False)
