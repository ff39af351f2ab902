"""Workspace pages for triggers: the list with an on/off switch each, the when → if → then editor, and each
trigger's run log.

The editor is a plain form: conditions are a fixed number of rows (empty rows are dropped), delays and offsets are
typed in a unit of the user's choice and sent to the service in minutes, like the API.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.accounts.permissions import Capability, ensure
from rapport.automation.models import Trigger, TriggerRunStatus
from rapport.automation.selectors_sequences import sequence_list
from rapport.automation.selectors_triggers import trigger_get_for_user, trigger_list, trigger_run_list
from rapport.automation.services_triggers import ACTIONS, EVENTS, OPS, trigger_create, trigger_update
from rapport.candidates.selectors import pool_choices
from rapport.common.errors import ApplicationError, BadRequest, NotFound, PermissionDenied
from rapport.common.web import safe_next, scoped
from rapport.messaging.selectors import message_template_list

CONDITION_ROWS = 3
OP_LABELS = {"eq": "is", "ne": "is not", "in": "is one of", "contains": "contains"}
# Settings the editor shows as their own inputs; the rest of a trigger's `config` is kept as it is.
EDITED_CONFIG = ("offsets", "title", "tag", "pool_id", "months", "moment")
SURVEY_MOMENTS = [
    ("after_applying", "After applying"),
    ("after_interview", "After an interview"),
    ("after_decision", "After a decision"),
]
UNITS = {"minutes": 1, "hours": 60, "days": 24 * 60}
UNIT_CHOICES = [("minutes", "minutes"), ("hours", "hours"), ("days", "days")]
LIST_OPS = {"in"}
ERROR_FIELDS = {
    "name": "name",
    "description": "description",
    "enabled": "enabled",
    "event": "event",
    "action": "action",
    "template_id": "template",
    "sequence_id": "sequence",
    "delay_minutes": "delay_amount",
    "config.offsets": "offsets",
    "config.anchor": "offsets",
    "config.title": "task_title",
    "config.tag": "tag",
    "config.pool": "pool",
    "config.pool_id": "pool",
    "config.months": "months",
    "config.moment": "survey_moment",
    "config.survey_id": "survey_moment",
    "conditions": "conditions",
    "config": "config",
}


@dataclass
class TriggerForm:
    values: dict[str, Any]
    conditions: list[dict[str, str]]
    errors: dict[str, list[str]] = field(default_factory=dict)
    # Settings of the shipped defaults that the editor does not show (anchors, "details" and the like), kept as
    # they are when the form is saved.
    config: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    @property
    def non_field_errors(self) -> list[str]:
        return self.errors.get("", []) + self.errors.get("config", [])


def _split_minutes(minutes: int) -> tuple[str, str]:
    """A number of minutes in the largest unit that divides it: 1440 → ("1", "days")."""
    for unit in ("days", "hours"):
        if minutes and minutes % UNITS[unit] == 0:
            return str(minutes // UNITS[unit]), unit
    return str(minutes), "minutes"


def _offsets_text(offsets: list[int]) -> tuple[str, str]:
    for unit in ("days", "hours"):
        if offsets and all(offset % UNITS[unit] == 0 for offset in offsets):
            return ", ".join(str(offset // UNITS[unit]) for offset in offsets), unit
    return ", ".join(str(offset) for offset in offsets), "minutes"


def _condition_value_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _form_from_trigger(trigger: Trigger | None) -> TriggerForm:
    if trigger is None:
        values = {
            "name": "",
            "description": "",
            "enabled": True,
            "event": "application.rejected",
            "action": "send_message",
            "template": "",
            "sequence": "",
            "delay_amount": "0",
            "delay_unit": "hours",
            "offsets": "",
            "offsets_unit": "hours",
            "task_title": "",
            "tag": "",
            "pool": "",
            "months": "",
            "survey_moment": "",
        }
        return TriggerForm(values=values, conditions=_pad([]))
    config = dict(trigger.config or {})
    delay, delay_unit = _split_minutes(trigger.delay_minutes)
    offsets, offsets_unit = _offsets_text(list(config.pop("offsets", []) or []))
    values = {
        "name": trigger.name,
        "description": trigger.description,
        "enabled": trigger.enabled,
        "event": trigger.event,
        "action": trigger.action,
        "template": str(trigger.template_id or ""),
        "sequence": str(trigger.sequence_id or ""),
        "delay_amount": delay,
        "delay_unit": delay_unit,
        "offsets": offsets,
        "offsets_unit": offsets_unit,
        "task_title": str(config.pop("title", "") or ""),
        "tag": str(config.pop("tag", "") or ""),
        "pool": str(config.pop("pool_id", "") or ""),
        "months": str(config.pop("months", "") or ""),
        "survey_moment": str(config.pop("moment", "") or ""),
    }
    conditions = [
        {"field": str(c.get("field", "")), "op": str(c.get("op", "eq")), "value": _condition_value_text(c.get("value"))}
        for c in (trigger.conditions or [])
        if isinstance(c, dict)
    ]
    return TriggerForm(values=values, conditions=_pad(conditions), config=config)


def _pad(conditions: list[dict[str, str]]) -> list[dict[str, str]]:
    rows = list(conditions)
    while len(rows) < max(CONDITION_ROWS, len(conditions) + 1):
        rows.append({"field": "", "op": "eq", "value": ""})
    return rows


def _form_from_post(post: QueryDict, trigger: Trigger | None) -> TriggerForm:
    rows = []
    count = post.get("condition_count", str(CONDITION_ROWS))
    count = int(count) if count.isdigit() and int(count) <= 20 else CONDITION_ROWS
    for index in range(count):
        rows.append(
            {
                "field": post.get(f"cond-{index}-field", "").strip(),
                "op": post.get(f"cond-{index}-op", "eq"),
                "value": post.get(f"cond-{index}-value", "").strip(),
            }
        )
    values = {
        "name": post.get("name", "").strip(),
        "description": post.get("description", "").strip(),
        "enabled": post.get("enabled") == "on",
        "event": post.get("event", "").strip(),
        "action": post.get("action", ""),
        "template": post.get("template", ""),
        "sequence": post.get("sequence", ""),
        "delay_amount": post.get("delay_amount", "").strip(),
        "delay_unit": post.get("delay_unit", "minutes"),
        "offsets": post.get("offsets", "").strip(),
        "offsets_unit": post.get("offsets_unit", "minutes"),
        "task_title": post.get("task_title", "").strip(),
        "tag": post.get("tag", "").strip(),
        "pool": post.get("pool", ""),
        "months": post.get("months", "").strip(),
        "survey_moment": post.get("survey_moment", ""),
    }
    config = dict(trigger.config or {}) if trigger else {}
    for key in EDITED_CONFIG:
        config.pop(key, None)
    return TriggerForm(values=values, conditions=rows, config=config)


def _condition_value(op: str, text: str) -> Any:
    """What the user typed, as the JSON value the condition compares with."""
    if op in LIST_OPS:
        return [part.strip() for part in text.split(",") if part.strip()]
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if text.lstrip("-").isdigit() and len(text) < 12:
        return int(text)
    return text


def _service_data(form: TriggerForm) -> dict[str, Any]:
    values = form.values
    unit = UNITS.get(values["delay_unit"], 1)
    raw_delay = values["delay_amount"] or "0"
    delay = int(raw_delay) * unit if raw_delay.lstrip("-").isdigit() and len(raw_delay) < 9 else None
    if delay is None:
        form.add("delay_amount", "Enter the delay as a whole number.")
    offsets: list[int] = []
    offset_unit = UNITS.get(values["offsets_unit"], 1)
    for part in filter(None, (p.strip() for p in values["offsets"].split(","))):
        if part.lstrip("-").isdigit() and len(part) < 9:
            offsets.append(int(part) * offset_unit)
        else:
            form.add("offsets", f"“{part}” is not a whole number; separate several with commas, e.g. -24, -2.")
    conditions = []
    for index, row in enumerate(form.conditions):
        if not row["field"] and not row["value"]:
            continue
        if not row["field"]:
            form.add(f"cond-{index}-field", "Say which field to compare.")
        conditions.append({"field": row["field"], "op": row["op"], "value": _condition_value(row["op"], row["value"])})
    config = dict(form.config)
    if offsets:
        config["offsets"] = offsets
    for key, name in (("title", "task_title"), ("tag", "tag")):
        if values[name]:
            config[key] = values[name]
    if values["pool"]:
        config["pool_id"] = values["pool"]
    if values["survey_moment"]:
        config["moment"] = values["survey_moment"]
    if values["months"]:
        if values["months"].isdigit() and len(values["months"]) < 5:
            config["months"] = int(values["months"])
        else:
            form.add("months", "Enter a whole number of months.")
    return {
        "name": values["name"],
        "description": values["description"],
        "enabled": values["enabled"],
        "event": values["event"],
        "conditions": conditions,
        "action": values["action"],
        "template_id": values["template"] or None,
        "sequence_id": values["sequence"] or None,
        "delay_minutes": delay or 0,
        "config": config,
    }


def _place_errors(form: TriggerForm, exc: ApplicationError, sent: dict[str, Any]) -> None:
    """Each service error next to the input it names (conditions[1].field → that row's field)."""
    kept = [i for i, row in enumerate(form.conditions) if row["field"] or row["value"]]
    placed = False
    for name, messages_ in exc.fields.items():
        target = ERROR_FIELDS.get(name, "")
        if name.startswith("conditions[") and "]" in name:
            number = name[11 : name.index("]")]
            rest = name[name.index("]") + 1 :].lstrip(".") or "field"
            if number.isdigit() and int(number) < len(kept):
                target = f"cond-{kept[int(number)]}-{rest if rest in ('field', 'op', 'value') else 'field'}"
        elif name.startswith("config."):
            target = ERROR_FIELDS.get(name, "config")
        for message in messages_:
            form.add(target, message)
            placed = True
    if not placed:
        form.add("", exc.message)


def _save(request: HttpRequest, form: TriggerForm, trigger: Trigger | None) -> Trigger | None:
    data = _service_data(form)
    if form.errors:
        return None
    try:
        if trigger is None:
            return trigger_create(actor=request.user, data=data)
        return trigger_update(actor=request.user, trigger=trigger, data=data)
    except ApplicationError as exc:
        if isinstance(exc, PermissionDenied) or (isinstance(exc, NotFound) and not exc.fields):
            raise
        _place_errors(form, exc, data)
        return None


def _form_page(request: HttpRequest, form: TriggerForm, trigger: Trigger | None, status: int = 200) -> HttpResponse:
    user = request.user
    events = list(EVENTS.items())
    if form.values["event"] and form.values["event"] not in EVENTS:
        events.append((form.values["event"], form.values["event"]))
    context = {
        "trigger": trigger,
        "form": form,
        "values": form.values,
        "errors": form.errors,
        "conditions": [
            {
                **row,
                "index": index,
                "errors": form.errors.get(f"cond-{index}-field", [])
                + form.errors.get(f"cond-{index}-op", [])
                + form.errors.get(f"cond-{index}-value", []),
            }
            for index, row in enumerate(form.conditions)
        ],
        "events": events,
        "actions": list(ACTIONS.items()),
        "ops": [(op, OP_LABELS.get(op, op)) for op in OPS],
        "pool_options": [(pool.pk, pool.name) for pool in pool_choices(user=user)],
        "survey_moments": SURVEY_MOMENTS,
        "units": UNIT_CHOICES,
        "template_choices": list(message_template_list(user=user).order_by("name")),
        "sequences": list(sequence_list(user=user).order_by("name")),
        "kept_config": json.dumps(form.config, sort_keys=True) if form.config else "",
    }
    return render(request, "automation/trigger_form.html", context, status=status)


@login_required
@require_GET
@scoped
def trigger_list_view(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.MANAGE_AUTOMATION)
    triggers = list(trigger_list(user=request.user).order_by("name"))
    rows = [
        {"trigger": t, "event": EVENTS.get(t.event, t.event), "action": ACTIONS.get(t.action, t.action)}
        for t in triggers
    ]
    return render(request, "automation/trigger_list.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def trigger_create_view(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.MANAGE_AUTOMATION)
    if request.method == "GET":
        return _form_page(request, _form_from_trigger(None), None)
    form = _form_from_post(request.POST, None)
    trigger = _save(request, form, None)
    if trigger is None:
        return _form_page(request, form, None, status=422)
    messages.success(request, f"Created the trigger “{trigger.name}”.")
    return redirect("triggers:edit", trigger_id=trigger.pk)


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def trigger_edit_view(request: HttpRequest, trigger_id: int) -> HttpResponse:
    trigger = trigger_get_for_user(user=request.user, trigger_id=trigger_id)
    ensure(request.user, Capability.MANAGE_AUTOMATION)
    if request.method == "GET":
        return _form_page(request, _form_from_trigger(trigger), trigger)
    form = _form_from_post(request.POST, trigger)
    saved = _save(request, form, trigger)
    if saved is None:
        return _form_page(request, form, trigger, status=422)
    messages.success(request, f"Saved “{saved.name}”.")
    return redirect("triggers:edit", trigger_id=saved.pk)


@login_required
@require_POST
@scoped
def trigger_toggle_view(request: HttpRequest, trigger_id: int) -> HttpResponse:
    """Switch a trigger on (enabled=1) or off (enabled=0); over HTMX the row's switch is swapped in place."""
    trigger = trigger_get_for_user(user=request.user, trigger_id=trigger_id)
    ensure(request.user, Capability.MANAGE_AUTOMATION)
    enabled = request.POST.get("enabled", "1") != "0"
    try:
        trigger = trigger_update(actor=request.user, trigger=trigger, data={"enabled": enabled})
    except ApplicationError as exc:
        if exc.status in (403, 404) and not exc.fields:
            raise
        messages.error(request, exc.message)
        return redirect(safe_next(request, reverse("triggers:list")))
    toast = f"“{trigger.name}” is {'on' if trigger.enabled else 'off'}."
    if request.htmx:
        response = render(request, "automation/_trigger_switch.html", {"trigger": trigger})
        response["HX-Trigger"] = json.dumps({"rapport:toast": {"message": toast, "level": "success"}})
        return response
    messages.success(request, toast)
    return redirect(safe_next(request, reverse("triggers:list")))


RUN_STATUS_BADGES = {
    TriggerRunStatus.SCHEDULED: "info",
    TriggerRunStatus.DONE: "success",
    TriggerRunStatus.SKIPPED: "neutral",
    TriggerRunStatus.FAILED: "danger",
}


@login_required
@require_GET
@scoped
def trigger_runs_view(request: HttpRequest, trigger_id: int) -> HttpResponse:
    trigger = trigger_get_for_user(user=request.user, trigger_id=trigger_id)
    ensure(request.user, Capability.MANAGE_AUTOMATION)
    try:
        page = trigger_run_list(trigger=trigger, cursor=request.GET.get("cursor") or None)
    except BadRequest:
        return redirect(reverse("triggers:runs", args=[trigger.pk]))
    if isinstance(page, dict):
        runs, next_cursor = list(page.get("items", [])), page.get("next_cursor")
    elif hasattr(page, "next_cursor"):
        runs, next_cursor = list(page.items), page.next_cursor
    else:
        runs, next_cursor = list(page), None
    rows = [{"run": run, "badge": RUN_STATUS_BADGES.get(run.status, "neutral")} for run in runs]
    context = {"trigger": trigger, "rows": rows, "next_cursor": next_cursor}
    return render(request, "automation/trigger_runs.html", context)
