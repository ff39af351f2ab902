"""Workspace pages for sequences: the list, the builder, pause and resume, enrolments and their per-person actions,
enrolling from a picker or from the candidate list, and the statistics page.

The builder works without JavaScript: the whole form, steps included, is posted at once. Buttons named `action`
add, remove or move a step and show the form again; "save" turns the rows into the API's `steps` list and hands it
to the service, whose errors (`steps[2].template_id`) are shown next to that step's field.
"""

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.accounts.permissions import Capability, can, ensure
from rapport.automation.charts import TESTS, funnel_chart, percent, variant_chart
from rapport.automation.models import (
    Enrolment,
    EnrolmentStatus,
    Sequence,
    SequenceStatus,
    StepRun,
    StepType,
)
from rapport.automation.selectors import task_owner_choices
from rapport.automation.selectors_sequences import (
    enrolment_get_for_user,
    enrolment_list,
    sequence_get_for_user,
    sequence_list,
    sequence_stats,
)
from rapport.automation.services_sequences import (
    enrolment_exit,
    enrolment_pause,
    enrolment_resume,
    sequence_create,
    sequence_enrol,
    sequence_update,
)
from rapport.candidates.selectors import candidate_get_for_user, candidate_picker, pool_choices, segments_list
from rapport.common.errors import ApplicationError, BadRequest, NotFound, PermissionDenied
from rapport.common.web import safe_next, scoped
from rapport.messaging.selectors import message_template_list

MAX_STEPS = 30
MAX_BULK = 1000
WEEKDAYS = [
    ("mon", "Mon"),
    ("tue", "Tue"),
    ("wed", "Wed"),
    ("thu", "Thu"),
    ("fri", "Fri"),
    ("sat", "Sat"),
    ("sun", "Sun"),
]
EXIT_EVENTS = [
    ("replied", "Replies"),
    ("applied", "Applies to a job"),
    ("stage_changed", "Changes stage"),
    ("unsubscribed", "Unsubscribes"),
    ("do_not_contact", "Is marked do not contact"),
    ("hired", "Is hired"),
]
CHANNELS = [("email", "Email"), ("sms", "SMS"), ("whatsapp", "WhatsApp")]
WAIT_UNITS = [("hours", "hours"), ("days", "days"), ("minutes", "minutes"), ("until", "until a weekday and time")]
BRANCH_ON = [
    ("opened", "Opened the last message"),
    ("clicked", "Clicked a link in it"),
    ("replied", "Replied"),
    ("no_response", "No response"),
]
VARIANT_LABELS = ("b", "c")
# Every input a step row can carry; a row keeps all of them so moving it keeps what was typed.
STEP_FIELDS = (
    "type",
    "channel",
    "template",
    "weight_a",
    "template_b",
    "weight_b",
    "template_c",
    "weight_c",
    "amount",
    "unit",
    "business_days",
    "until_day",
    "until_time",
    "title",
    "due_in_days",
    "tag",
    "pool",
    "on",
    "within_days",
    "then",
    "else",
)
# The inputs each step type shows.
TYPE_FIELDS = {
    "message": ("channel", "template", "weight_a", "template_b", "weight_b", "template_c", "weight_c"),
    "wait": ("amount", "unit", "business_days", "until_day", "until_time"),
    "task": ("title", "due_in_days"),
    "tag": ("tag",),
    "pool": ("pool",),
    "branch": ("on", "within_days", "then", "else"),
}
# Where the service's step field names are shown in a row (the API's name → the row's input).
STEP_ERROR_FIELDS = {
    "channel": "channel",
    "template_id": "template",
    "variants": "template_b",
    "minutes": "amount",
    "hours": "amount",
    "days": "amount",
    "business_days": "business_days",
    "until": "until_day",
    "title": "title",
    "due_in_days": "due_in_days",
    "tag": "tag",
    "pool_id": "pool",
    "on": "on",
    "within_days": "within_days",
    "then": "then",
    "else": "else",
}
TOP_ERROR_FIELDS = {
    "name": "name",
    "description": "description",
    "sender": "sender",
    "send_window": "window_start",
    "send_window.start": "window_start",
    "send_window.end": "window_end",
    "send_window.days": "window_days",
    "exit_on": "exit_on",
    "segment_id": "segment",
    "status": "name",
}


@dataclass
class StepRow:
    """One step as the builder shows it: its inputs as typed and the errors that belong to each."""

    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)
    index: int = 0

    @property
    def f(self) -> dict[str, dict[str, Any]]:
        """Each input's id, name, value and errors, for the template (which cannot index by a variable)."""
        return {
            name: {
                "id": f"steps-{self.index}-{name}",
                "name": f"steps-{self.index}-{name}",
                "value": self.values.get(name, ""),
                "errors": self.errors.get(name, []),
            }
            for name in STEP_FIELDS
        }

    @property
    def type(self) -> str:
        return self.values.get("type", "")

    @property
    def type_label(self) -> str:
        return StepType(self.type).label if self.type in StepType.values else self.type

    @property
    def general_errors(self) -> list[str]:
        """Errors about the step as a whole, or about a field this step type does not show."""
        shown = set(TYPE_FIELDS.get(self.type, ()))
        return [message for name, messages_ in self.errors.items() if name not in shown for message in messages_]


@dataclass
class Builder:
    """The builder form as posted (or loaded from a sequence), with its errors."""

    values: dict[str, Any]
    rows: list[StepRow]
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def non_field_errors(self) -> list[str]:
        return self.errors.get("", [])


# --- converting between the form, the API body and the model ---------------------------------------------------


def _int_or_none(raw: str) -> int | None:
    raw = (raw or "").strip()
    if raw.lstrip("-").isdigit() and len(raw) < 10:
        return int(raw)
    return None


def _builder_from_post(post: QueryDict) -> Builder:
    count = _int_or_none(post.get("step_count", "0")) or 0
    rows = []
    for index in range(min(max(count, 0), MAX_STEPS)):
        values = {name: post.get(f"steps-{index}-{name}", "").strip() for name in STEP_FIELDS}
        if values["type"] in StepType.values:
            rows.append(StepRow(values=values))
    values = {
        "name": post.get("name", "").strip(),
        "description": post.get("description", "").strip(),
        "sender": post.get("sender", "owner"),
        "window_start": post.get("window_start", "").strip(),
        "window_end": post.get("window_end", "").strip(),
        "window_days": [day for day in post.getlist("window_days") if day in dict(WEEKDAYS)],
        "exit_on": [event for event in post.getlist("exit_on") if event in dict(EXIT_EVENTS)],
        "segment": post.get("segment", ""),
    }
    return Builder(values=values, rows=rows)


def _new_row(step_type: str) -> StepRow:
    values = dict.fromkeys(STEP_FIELDS, "")
    values.update(
        type=step_type, channel="email", unit="days", amount="3", weight_a="50", on="replied", until_time="09:00"
    )
    if step_type == StepType.TASK:
        values["due_in_days"] = "1"
    if step_type == StepType.BRANCH:
        values["within_days"] = "3"
    return StepRow(values=values)


def _empty_builder() -> Builder:
    values = {
        "name": "",
        "description": "",
        "sender": "owner",
        "window_start": "09:00",
        "window_end": "17:00",
        "window_days": ["mon", "tue", "wed", "thu", "fri"],
        "exit_on": ["replied", "applied", "stage_changed", "unsubscribed", "do_not_contact", "hired"],
        "segment": "",
    }
    return Builder(values=values, rows=[_new_row(StepType.MESSAGE)])


def _builder_from_sequence(sequence: Sequence) -> Builder:
    steps = list(sequence.steps.order_by("position").prefetch_related("variants"))
    rows = []
    for step in steps:
        row = _new_row(step.type)
        config = step.config or {}
        values = row.values
        if step.type == StepType.MESSAGE:
            values["channel"] = config.get("channel", "email")
            values["template"] = str(step.template_id or "")
            variants = list(step.variants.all())
            if variants:
                first, *others = variants
                values["template"] = str(first.template_id)
                values["weight_a"] = str(first.weight)
                for label, variant in zip(VARIANT_LABELS, others, strict=False):
                    values[f"template_{label}"] = str(variant.template_id)
                    values[f"weight_{label}"] = str(variant.weight)
        elif step.type == StepType.WAIT:
            for unit in ("minutes", "hours", "days"):
                if config.get(unit) is not None:
                    values["unit"], values["amount"] = unit, str(config[unit])
            until = config.get("until")
            if isinstance(until, dict):
                values.update(unit="until", amount="", until_day=until.get("weekday", ""))
                values["until_time"] = until.get("time", "09:00")
            values["business_days"] = "on" if config.get("business_days") else ""
        elif step.type == StepType.TASK:
            values["title"] = config.get("title", "")
            values["due_in_days"] = str(config.get("due_in_days", ""))
        elif step.type == StepType.TAG:
            values["tag"] = config.get("tag", "")
        elif step.type == StepType.POOL:
            values["pool"] = str(config.get("pool_id", ""))
        elif step.type == StepType.BRANCH:
            values["on"] = config.get("on", "replied")
            values["within_days"] = str(config.get("within_days", ""))
            for key in ("then", "else"):
                target = config.get(key)
                values[key] = str(target + 1) if isinstance(target, int) else ""
        rows.append(row)
    values = {
        "name": sequence.name,
        "description": sequence.description,
        "sender": "owner" if sequence.sender_mode == "owner" else str(sequence.sender_user_id or ""),
        "window_start": sequence.send_window_start.strftime("%H:%M") if sequence.send_window_start else "",
        "window_end": sequence.send_window_end.strftime("%H:%M") if sequence.send_window_end else "",
        "window_days": list(sequence.send_window_days or []),
        "exit_on": list(sequence.exit_on or []),
        "segment": str(sequence.segment_id or ""),
    }
    return Builder(values=values, rows=rows)


def _need_int(row: StepRow, name: str, label: str, *, required: bool = True) -> int | None:
    raw = row.values.get(name, "")
    if not raw:
        if required:
            row.errors.setdefault(name, []).append(f"Enter {label}.")
        return None
    number = _int_or_none(raw)
    if number is None:
        row.errors.setdefault(name, []).append(f"Enter {label} as a whole number.")
    return number


def _step_body(row: StepRow, rows: list[StepRow]) -> dict[str, Any]:
    """One row as the API's step object. Numbers that do not parse are noted on the row, not sent."""
    values = row.values
    body: dict[str, Any] = {"type": row.type}
    if row.type == StepType.MESSAGE:
        body["channel"] = values["channel"]
        body["template_id"] = values["template"] or None
        variants = [
            (label, values[f"template_{label}"], values[f"weight_{label}"])
            for label in VARIANT_LABELS
            if values[f"template_{label}"]
        ]
        if variants:
            weight_a = _need_int(row, "weight_a", "a weight")
            listed = [{"template_id": values["template"] or None, "weight": weight_a}]
            for label, template_id, _ in variants:
                listed.append({"template_id": template_id, "weight": _need_int(row, f"weight_{label}", "a weight")})
            body["variants"] = listed
    elif row.type == StepType.WAIT:
        unit = values["unit"] if values["unit"] in dict(WAIT_UNITS) else "days"
        if unit == "until":
            if not values["until_day"]:
                row.errors.setdefault("until_day", []).append("Choose the weekday to wait for.")
            body["until"] = {"weekday": values["until_day"], "time": values["until_time"] or "09:00"}
            return body
        body[unit] = _need_int(row, "amount", "how long to wait")
        if unit == "days":
            body["business_days"] = values["business_days"] == "on"
    elif row.type == StepType.TASK:
        body["title"] = values["title"]
        body["due_in_days"] = _need_int(row, "due_in_days", "days until it is due", required=False) or 0
    elif row.type == StepType.TAG:
        body["tag"] = values["tag"]
    elif row.type == StepType.POOL:
        body["pool_id"] = values["pool"] or None
    elif row.type == StepType.BRANCH:
        body["on"] = values["on"]
        within = _need_int(row, "within_days", "a number of days", required=False)
        if within is not None:
            body["within_days"] = within
        # Jumps go forward only; one past the last step finishes. The builder numbers steps from 1, positions
        # count from 0.
        first, last = row.index + 2, len(rows) + 1
        for key in ("then", "else"):
            number = _need_int(row, key, "a step number", required=key == "then")
            if number is None:
                continue
            if not first <= number <= last:
                row.errors.setdefault(key, []).append(f"Choose a later step, from {first} to {last} ({last} ends).")
            body[key] = number - 1
    return body


def _api_body(builder: Builder) -> dict[str, Any]:
    values = builder.values
    for index, row in enumerate(builder.rows):
        row.index = index
    body: dict[str, Any] = {
        "name": values["name"],
        "description": values["description"],
        "sender": values["sender"] or "owner",
        "exit_on": values["exit_on"],
        "segment_id": values["segment"] or None,
        "steps": [_step_body(row, builder.rows) for row in builder.rows],
    }
    if values["window_start"] or values["window_end"]:
        body["send_window"] = {
            "start": values["window_start"],
            "end": values["window_end"],
            "days": values["window_days"],
        }
    else:
        body["send_window"] = None
    if body["sender"] != "owner" and _int_or_none(body["sender"]) is None:
        builder.errors.setdefault("sender", []).append("Choose a sender from the list.")
    return body


def _place_errors(builder: Builder, exc: ApplicationError) -> None:
    """Put each of the service's errors next to the input it names; what names nothing goes above the form."""
    placed = False
    for name, messages_ in exc.fields.items():
        target: tuple[int, str] | str | None = None
        if name.startswith("steps[") and "]" in name:
            index = _int_or_none(name[6 : name.index("]")])
            rest = name[name.index("]") + 1 :].lstrip(".")
            if index is not None and 0 <= index < len(builder.rows):
                if rest.startswith("variants["):
                    # variants[0] is the step's own template; the next ones are the rows B and C.
                    variant = _int_or_none(rest[9 : rest.index("]")]) if "]" in rest else None
                    key = "template" if not variant else f"template_{VARIANT_LABELS[min(variant, 2) - 1]}"
                    if rest.endswith("weight"):
                        key = key.replace("template", "weight") if variant else "weight_a"
                    target = (index, key)
                else:
                    target = (index, STEP_ERROR_FIELDS.get(rest.split(".")[0], ""))
        elif name in TOP_ERROR_FIELDS:
            target = TOP_ERROR_FIELDS[name]
        for message in messages_:
            if isinstance(target, tuple):
                index, key = target
                builder.rows[index].errors.setdefault(key, []).append(message)
            elif target:
                builder.errors.setdefault(target, []).append(message)
            else:
                builder.errors.setdefault("", []).append(message)
            placed = True
    if not placed:
        builder.errors.setdefault("", []).append(exc.message)


def _apply_row_action(builder: Builder, action: str) -> bool:
    """Add, remove or move a step; True when the action was one of those (so the form is shown again)."""
    verb, _, arg = action.partition(":")
    rows = builder.rows
    if verb == "add" and arg in StepType.values:
        if len(rows) < MAX_STEPS:
            rows.append(_new_row(arg))
        return True
    index = _int_or_none(arg)
    if verb not in ("remove", "up", "down") or index is None or not 0 <= index < len(rows):
        return verb in ("add", "remove", "up", "down")
    if verb == "remove":
        rows.pop(index)
    elif verb == "up" and index > 0:
        rows[index - 1], rows[index] = rows[index], rows[index - 1]
    elif verb == "down" and index < len(rows) - 1:
        rows[index + 1], rows[index] = rows[index], rows[index + 1]
    return True


# --- pages ------------------------------------------------------------------------------------------------------


def _builder_page(request: HttpRequest, builder: Builder, sequence: Sequence | None, status: int = 200) -> HttpResponse:
    user = request.user
    for index, row in enumerate(builder.rows):
        row.index = index
    templates = list(message_template_list(user=user).order_by("name"))
    context = {
        "sequence": sequence,
        "builder": builder,
        "values": builder.values,
        "rows": builder.rows,
        "errors": builder.errors,
        "template_choices": templates,
        # Only people who may send messages can sign a sequence's messages.
        "senders": [u for u in task_owner_choices(user=user) if can(u, Capability.SEND_MESSAGES)],
        "segments": list(segments_list(user=user).order_by("name")),
        "pool_options": [(pool.pk, pool.name) for pool in pool_choices(user=user)],
        "weekdays": WEEKDAYS,
        "exit_events": EXIT_EVENTS,
        "channels": CHANNELS,
        "wait_units": WAIT_UNITS,
        "branch_on": BRANCH_ON,
        "step_types": StepType.choices,
        "max_steps": MAX_STEPS,
    }
    return render(request, "automation/sequence_form.html", context, status=status)


def _save(request: HttpRequest, builder: Builder, sequence: Sequence | None) -> Sequence | None:
    body = _api_body(builder)
    if builder.errors or any(row.errors for row in builder.rows):
        return None
    try:
        if sequence is None:
            return sequence_create(actor=request.user, data=body)
        return sequence_update(actor=request.user, sequence=sequence, data=body)
    except ApplicationError as exc:
        if isinstance(exc, PermissionDenied) or (isinstance(exc, NotFound) and not exc.fields):
            raise
        _place_errors(builder, exc)
        return None


def _list_rows(user: Any) -> list[dict[str, Any]]:
    """The sequences with how many people are in each and how their messages do, counted in two queries."""
    sequences = list(sequence_list(user=user).order_by("name"))
    ids = [sequence.pk for sequence in sequences]
    people = dict(
        Enrolment.objects.filter(sequence_id__in=ids, status=EnrolmentStatus.ACTIVE)
        .values_list("sequence_id")
        .annotate(n=Count("id"))
        .values_list("sequence_id", "n")
    )
    sent_rows = (
        StepRun.objects.filter(enrolment__sequence_id__in=ids, message__isnull=False)
        .values("enrolment__sequence_id")
        .annotate(sent=Count("id"), replied=Count("id", filter=Q(replied_at__isnull=False)))
    )
    sent = {row["enrolment__sequence_id"]: (row["sent"], row["replied"]) for row in sent_rows}
    rows = []
    for sequence in sequences:
        sent_count, replied = sent.get(sequence.pk, (0, 0))
        rows.append(
            {
                "sequence": sequence,
                "active": people.get(sequence.pk, 0),
                "sent": sent_count,
                "reply_rate": round(100 * replied / sent_count) if sent_count else None,
            }
        )
    return rows


@login_required
@require_GET
@scoped
def sequence_list_view(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.MANAGE_AUTOMATION)
    return render(request, "automation/sequence_list.html", {"rows": _list_rows(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def sequence_create_view(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.MANAGE_AUTOMATION)
    if request.method == "GET":
        return _builder_page(request, _empty_builder(), None)
    builder = _builder_from_post(request.POST)
    if _apply_row_action(builder, request.POST.get("action", "save")):
        return _builder_page(request, builder, None)
    sequence = _save(request, builder, None)
    if sequence is None:
        return _builder_page(request, builder, None, status=422)
    messages.success(request, f"Created the sequence “{sequence.name}”.")
    return redirect("sequences:edit", sequence_id=sequence.pk)


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def sequence_edit_view(request: HttpRequest, sequence_id: int) -> HttpResponse:
    sequence = sequence_get_for_user(user=request.user, sequence_id=sequence_id)
    ensure(request.user, Capability.MANAGE_AUTOMATION)
    if request.method == "GET":
        return _builder_page(request, _builder_from_sequence(sequence), sequence)
    builder = _builder_from_post(request.POST)
    if _apply_row_action(builder, request.POST.get("action", "save")):
        return _builder_page(request, builder, sequence)
    saved = _save(request, builder, sequence)
    if saved is None:
        return _builder_page(request, builder, sequence, status=422)
    messages.success(request, f"Saved “{saved.name}”.")
    return redirect("sequences:edit", sequence_id=saved.pk)


STATUS_TOASTS = {
    SequenceStatus.ACTIVE: "“{}” is active: enrolled people move through its steps.",
    SequenceStatus.PAUSED: "Paused “{}”: nobody gets a step until you resume it.",
}


@login_required
@require_POST
@scoped
def sequence_status_view(request: HttpRequest, sequence_id: int) -> HttpResponse:
    """Activate, pause or resume the whole sequence."""
    sequence = sequence_get_for_user(user=request.user, sequence_id=sequence_id)
    ensure(request.user, Capability.MANAGE_AUTOMATION)
    status = request.POST.get("status", "")
    if status not in STATUS_TOASTS:
        raise NotFound("No such action.")
    try:
        sequence = sequence_update(actor=request.user, sequence=sequence, data={"status": status})
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, STATUS_TOASTS[status].format(sequence.name))
    return redirect(safe_next(request, reverse("sequences:edit", args=[sequence.pk])))


# --- enrolments -------------------------------------------------------------------------------------------------

ENROLMENT_TABS = {"": "Everyone", "active": "Active", "paused": "Paused", "completed": "Completed", "exited": "Exited"}


def _page_items(page: Any) -> tuple[list[Any], str | None]:
    """`enrolment_list` answers a page (items and a next cursor); accept a plain list too."""
    if isinstance(page, dict):
        return list(page.get("items", [])), page.get("next_cursor")
    items = getattr(page, "items", None)
    if items is not None and not callable(items):
        return list(items), getattr(page, "next_cursor", None)
    return list(page), None


@login_required
@require_GET
@scoped
def enrolment_list_view(request: HttpRequest, sequence_id: int) -> HttpResponse:
    sequence = sequence_get_for_user(user=request.user, sequence_id=sequence_id)
    ensure(request.user, Capability.MANAGE_AUTOMATION)
    status = request.GET.get("status", "")
    status = status if status in ENROLMENT_TABS else ""
    try:
        page = enrolment_list(sequence=sequence, status=status or None, cursor=request.GET.get("cursor") or None)
    except BadRequest:
        return redirect(reverse("sequences:enrolments", args=[sequence.pk]))
    items, next_cursor = _page_items(page)
    steps = {step.position: step for step in sequence.steps.select_related("template")}
    rows = [{"enrolment": enrolment, "next_step": steps.get(enrolment.step_position)} for enrolment in items]
    # Without JavaScript the search box is a GET form: its results are shown on this page.
    person_q = (request.GET.get("person_q") or "").strip()[:200]
    results, error = candidate_picker(user=request.user, query=person_q, limit=8) if person_q else ([], "")
    context = {
        "sequence": sequence,
        "person_q": person_q,
        "picker_results": results,
        "picker_error": error,
        "rows": rows,
        "status": status,
        "tabs": ENROLMENT_TABS.items(),
        "next_cursor": next_cursor,
        "step_count": len(steps),
    }
    return render(request, "automation/sequence_enrolments.html", context)


def _enrolment(request: HttpRequest, sequence: Sequence, enrolment_id: int) -> Enrolment:
    """An enrolment of this sequence whose person the user may see; anything else is 404."""
    enrolment = enrolment_get_for_user(user=request.user, enrolment_id=enrolment_id)
    if enrolment.sequence_id != sequence.pk:
        raise NotFound("No such enrolment.")
    candidate_get_for_user(user=request.user, candidate_id=enrolment.candidate_id)
    return enrolment


ENROLMENT_ACTIONS = {"pause": "Paused {}.", "resume": "Resumed {}.", "exit": "Took {} out of the sequence."}


@login_required
@require_POST
@scoped
def enrolment_action_view(request: HttpRequest, sequence_id: int, enrolment_id: int, action: str) -> HttpResponse:
    sequence = sequence_get_for_user(user=request.user, sequence_id=sequence_id)
    ensure(request.user, Capability.MANAGE_AUTOMATION)
    if action not in ENROLMENT_ACTIONS:
        raise NotFound("No such action.")
    enrolment = _enrolment(request, sequence, enrolment_id)
    reason = request.POST.get("reason", "").strip()[:300]
    try:
        if action == "pause":
            enrolment_pause(actor=request.user, enrolment=enrolment, reason=reason or "Paused by hand")
        elif action == "resume":
            enrolment_resume(actor=request.user, enrolment=enrolment)
        else:
            enrolment_exit(actor=request.user, enrolment=enrolment, reason=reason or "Taken out by hand")
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, ENROLMENT_ACTIONS[action].format(enrolment.candidate.full_name))
    return redirect(safe_next(request, reverse("sequences:enrolments", args=[sequence.pk])))


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit() and len(v) < 19][:MAX_BULK]


def _enrol_messages(request: HttpRequest, sequence: Sequence, result: Any) -> None:
    enrolled, skipped = list(result.enrolled), list(result.skipped)
    if enrolled:
        people = "1 person" if len(enrolled) == 1 else f"{len(enrolled)} people"
        messages.success(request, f"Enrolled {people} in “{sequence.name}”.")
    if skipped:
        reasons = sorted({reason for _, reason in skipped})
        people = "1 person" if len(skipped) == 1 else f"{len(skipped)} people"
        messages.warning(request, f"Skipped {people}: {'; '.join(reasons)}.")
    if not enrolled and not skipped:
        messages.error(request, "Choose at least one person to enrol.")


@login_required
@require_POST
@scoped
def enrol_view(request: HttpRequest, sequence_id: int) -> HttpResponse:
    """Enrol the people picked on the enrolments page (or posted as `ids` from elsewhere)."""
    sequence = sequence_get_for_user(user=request.user, sequence_id=sequence_id)
    ensure(request.user, Capability.MANAGE_AUTOMATION)
    ids = _ids(request.POST.getlist("candidate_id") + request.POST.getlist("ids"))
    if ids:
        try:
            result = sequence_enrol(actor=request.user, sequence=sequence, candidate_ids=ids)
        except ApplicationError as exc:
            if exc.status in (403, 404) and not exc.fields:
                raise
            messages.error(request, exc.message)
        else:
            _enrol_messages(request, sequence, result)
    else:
        messages.error(request, "Choose at least one person to enrol.")
    return redirect(safe_next(request, reverse("sequences:enrolments", args=[sequence.pk])))


@login_required
@require_POST
@scoped
def enrol_bulk_view(request: HttpRequest) -> HttpResponse:
    """From the candidate list's bulk bar: choose a sequence for the selected people, then enrol them."""
    ensure(request.user, Capability.MANAGE_AUTOMATION)
    ids = _ids(request.POST.getlist("ids"))
    sequence_id = request.POST.get("sequence", "")
    if sequence_id and ids:
        sequence = sequence_get_for_user(user=request.user, sequence_id=sequence_id)
        try:
            result = sequence_enrol(actor=request.user, sequence=sequence, candidate_ids=ids)
        except ApplicationError as exc:
            if exc.status in (403, 404) and not exc.fields:
                raise
            messages.error(request, exc.message)
            return redirect(reverse("candidates:list"))
        _enrol_messages(request, sequence, result)
        return redirect(reverse("sequences:enrolments", args=[sequence.pk]))
    sequences = [s for s in sequence_list(user=request.user).order_by("name") if s.status != SequenceStatus.ARCHIVED]
    context = {"ids": ids, "sequences": sequences, "error": "Choose a sequence." if "sequence" in request.POST else ""}
    return render(request, "automation/sequence_enrol_bulk.html", context, status=422 if context["error"] else 200)


# --- statistics -------------------------------------------------------------------------------------------------


METRIC_LABELS = (("replied", "Reply rate"), ("opened", "Open rate"), ("clicked", "Click rate"))


def _variant_row(variant: dict[str, Any]) -> dict[str, Any]:
    """A variant's counts with each rate and its 95 % interval written out, for the table under the charts."""
    row = dict(variant)
    for metric, _ in METRIC_LABELS:
        low, high = variant.get(f"{metric}_interval") or (None, None)
        row[f"{metric}_text"] = f"{percent(variant.get(f'{metric}_rate'))}, 95 % CI {percent(low)}–{percent(high)}"
    return row


@login_required
@require_GET
@scoped
def sequence_stats_view(request: HttpRequest, sequence_id: int) -> HttpResponse:
    sequence = sequence_get_for_user(user=request.user, sequence_id=sequence_id)
    ensure(request.user, Capability.MANAGE_AUTOMATION)
    stats = sequence_stats(sequence=sequence)
    steps = []
    for step in stats.get("steps", []):
        if step.get("type") != StepType.MESSAGE:
            continue
        number = step["position"] + 1
        variants = step.get("variants") or []
        comparisons = []
        if len(variants) > 1:
            for metric, label in METRIC_LABELS:
                verdict = (step.get("winner") or {}).get(metric) or {}
                comparisons.append(
                    {
                        "metric": metric,
                        "label": label,
                        "winner": verdict.get("label"),
                        "p_value": verdict.get("p_value"),
                        "test": TESTS.get(verdict.get("test") or "", ""),
                        "chart": variant_chart(
                            variants,
                            metric,
                            title=f"Step {number}: {label.lower()} by variant",
                            chart_id=f"step-{number}-{metric}",
                            winner=verdict.get("label"),
                        ),
                    }
                )
        steps.append(
            {
                "number": number,
                "step": step,
                "funnel": funnel_chart(step, title=f"Step {number} funnel", chart_id=f"step-{number}-funnel"),
                "variants": [_variant_row(v) for v in variants],
                "comparisons": comparisons,
            }
        )
    context = {"sequence": sequence, "enrolments": stats.get("enrolments", {}), "steps": steps}
    return render(request, "automation/sequence_stats.html", context)
