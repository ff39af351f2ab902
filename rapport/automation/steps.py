"""Sequence steps as plain data and time: parsing a step's body, wait arithmetic, send windows and A/B choice.

Nothing here touches the database except the template and pool look-ups of `clean_steps`, so the time rules
(days in the person's own calendar, business days, DST) can be tested on their own.

Times are computed in the person's zone and converted back to UTC. A wait of N days keeps the wall-clock time,
so across a DST change "3 days later" is 71 or 73 hours; minutes and hours are absolute. A local time that does
not exist (the spring-forward gap) is read with the offset before the change, which lands just after the gap.
"""

import contextlib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rapport.common.errors import FieldErrors
from rapport.common.ids import parse_id

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
BRANCH_ON = ["opened", "clicked", "replied", "no_response"]
CHANNELS = ["email", "sms", "whatsapp"]
MAX_STEPS = 50
MAX_VARIANTS = 5
VARIANT_LABELS = "ABCDE"
# Upper bounds that keep a typo (days: 3000) from parking people for years.
MAX_WAIT = {"minutes": 60 * 24 * 366, "hours": 24 * 366, "days": 366}
MAX_TASK_DAYS = 366
MAX_BRANCH_DAYS = 90
MAX_TITLE = 200


@dataclass
class VariantSpec:
    label: str
    template: Any
    weight: int


@dataclass
class StepSpec:
    """One cleaned step, ready to be stored as a `SequenceStep` (with its variants)."""

    type: str
    config: dict[str, Any]
    template: Any = None
    variants: list[VariantSpec] = field(default_factory=list)


# --- parsing --------------------------------------------------------------------------------------------------------


def parse_clock(value: Any) -> time | None:
    """ "09:00" or "9:30" as a time; None when it is not one."""
    if isinstance(value, time):
        return value
    if not isinstance(value, str):
        return None
    parts = value.strip().split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    hour, minute = int(parts[0]), int(parts[1])
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


def _whole(value: Any, *, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if low <= value <= high else None


def _template(value: Any, where: str, channel: str | None, templates: dict[int, Any], errors: FieldErrors) -> Any:
    try:
        template = templates.get(parse_id(value))
    except (TypeError, ValueError):
        template = None
    if template is None:
        errors.add(where, "There is no template with this id.")
        return None
    if channel and template.channel != channel:
        errors.add(where, f"This is a {template.get_channel_display()} template; the step sends {channel}.")
        return None
    return template


def _ids_named(steps: list[Any]) -> set[int]:
    """Every template id the steps name, so they are read in one query."""
    ids: set[int] = set()
    for raw in steps:
        if not isinstance(raw, dict):
            continue
        values = [raw.get("template_id")]
        variants = raw.get("variants")
        if isinstance(variants, list):
            values += [v.get("template_id") for v in variants if isinstance(v, dict)]
        for value in values:
            with contextlib.suppress(TypeError, ValueError):
                ids.add(parse_id(value))
    return ids


def clean_steps(raw_steps: Any, errors: FieldErrors) -> list[StepSpec]:
    """Check a sequence's `steps` list; problems are added to `errors` named like `steps[2].template_id`."""
    from rapport.candidates.models import TalentPool
    from rapport.messaging.models import MessageTemplate

    if not isinstance(raw_steps, list) or not all(isinstance(s, dict) for s in raw_steps):
        errors.add("steps", "Give the steps as a list of objects, each with a type.")
        return []
    if len(raw_steps) > MAX_STEPS:
        errors.add("steps", f"Use at most {MAX_STEPS} steps.")
        return []
    templates = MessageTemplate.objects.in_bulk(list(_ids_named(raw_steps)))
    specs: list[StepSpec] = []
    count = len(raw_steps)
    for index, raw in enumerate(raw_steps):
        where = f"steps[{index}]"
        kind = raw.get("type")
        config: dict[str, Any] = {}
        spec = StepSpec(type=str(kind), config=config)
        if kind == "message":
            _clean_message(raw, where, spec, templates, errors)
        elif kind == "wait":
            _clean_wait(raw, where, config, errors)
        elif kind == "task":
            _clean_task(raw, where, config, errors)
        elif kind == "tag":
            tag = raw.get("tag")
            tag = tag.strip() if isinstance(tag, str) else ""
            if not tag or len(tag) > 50:
                errors.add(f"{where}.tag", "Give a tag of 1 to 50 characters.")
            config["tag"] = tag
        elif kind == "pool":
            try:
                pool = TalentPool.objects.filter(pk=parse_id(raw.get("pool_id"))).first()
            except (TypeError, ValueError):
                pool = None
            if pool is None:
                errors.add(f"{where}.pool_id", "There is no talent pool with this id.")
            else:
                config["pool_id"] = pool.pk
        elif kind == "branch":
            _clean_branch(raw, where, index, count, config, errors)
        else:
            errors.add(f"{where}.type", "Choose one of: message, wait, task, tag, pool, branch.")
        specs.append(spec)
    return specs


def _clean_message(raw: dict, where: str, spec: StepSpec, templates: dict[int, Any], errors: FieldErrors) -> None:
    channel = raw.get("channel")
    if channel is not None and channel not in CHANNELS:
        errors.add(f"{where}.channel", f"Choose one of: {', '.join(CHANNELS)}.")
        return
    variants = raw.get("variants")
    if raw.get("template_id") in (None, "") and not variants:
        errors.add(f"{where}.template_id", "Pick the template this step sends.")
        return
    if raw.get("template_id") not in (None, ""):
        spec.template = _template(raw["template_id"], f"{where}.template_id", channel, templates, errors)
        if spec.template is not None:
            channel = channel or spec.template.channel
    if variants not in (None, []):
        if not isinstance(variants, list) or not all(isinstance(v, dict) for v in variants):
            errors.add(f"{where}.variants", "Give variants as a list of {template_id, weight}.")
            return
        if not 2 <= len(variants) <= MAX_VARIANTS:
            errors.add(f"{where}.variants", f"An A/B test needs 2 to {MAX_VARIANTS} variants.")
            return
        for number, variant in enumerate(variants):
            vwhere = f"{where}.variants[{number}]"
            template = _template(variant.get("template_id"), f"{vwhere}.template_id", channel, templates, errors)
            if template is not None:
                channel = channel or template.channel
            weight = variant.get("weight", 50)
            if _whole(weight, low=1, high=100) is None:
                errors.add(f"{vwhere}.weight", "Use a whole number from 1 to 100.")
                weight = 1
            spec.variants.append(VariantSpec(label=VARIANT_LABELS[number], template=template, weight=weight))
        if spec.template is None and spec.variants and spec.variants[0].template is not None:
            # The step's own template is what the builder shows; each person gets their variant's.
            spec.template = spec.variants[0].template
    spec.config["channel"] = channel or "email"


def _clean_wait(raw: dict, where: str, config: dict[str, Any], errors: FieldErrors) -> None:
    given = [unit for unit in ("minutes", "hours", "days", "until") if raw.get(unit) is not None]
    if len(given) != 1:
        errors.add(where, "A wait takes one of minutes, hours, days or until.")
        return
    unit = given[0]
    if unit == "until":
        until = raw["until"]
        if not isinstance(until, dict):
            errors.add(f"{where}.until", 'Give {"weekday": "mon", "time": "09:00"}.')
            return
        weekday, clock = until.get("weekday"), parse_clock(until.get("time", "09:00"))
        if weekday not in WEEKDAYS:
            errors.add(f"{where}.until.weekday", f"Choose one of: {', '.join(WEEKDAYS)}.")
        if clock is None:
            errors.add(f"{where}.until.time", "Use a time like 09:00.")
        else:
            config["until"] = {"weekday": weekday, "time": clock.strftime("%H:%M")}
        return
    amount = _whole(raw[unit], low=1, high=MAX_WAIT[unit])
    if amount is None:
        errors.add(f"{where}.{unit}", f"Use a whole number from 1 to {MAX_WAIT[unit]:,}.")
        return
    config[unit] = amount
    business = raw.get("business_days", False)
    if not isinstance(business, bool):
        errors.add(f"{where}.business_days", "Use true or false.")
    elif business and unit != "days":
        errors.add(f"{where}.business_days", "Business days go with a wait in days.")
    elif business:
        config["business_days"] = True


def _clean_task(raw: dict, where: str, config: dict[str, Any], errors: FieldErrors) -> None:
    from rapport.messaging.rendering import TemplateInvalid, validate_parts
    from rapport.messaging.selectors import custom_field_keys

    title = raw.get("title")
    title = " ".join(title.split()) if isinstance(title, str) else ""
    if not title:
        errors.add(f"{where}.title", "Say what the task is.")
    elif len(title) > MAX_TITLE:
        errors.add(f"{where}.title", f"Keep the title under {MAX_TITLE} characters.")
    else:
        try:
            # The title may use merge fields ("Call {{ candidate.first_name }}"), checked like a template's.
            validate_parts({"title": title}, custom_keys=custom_field_keys())
        except TemplateInvalid as exc:
            errors.add(f"{where}.title", exc.message)
    config["title"] = title
    due = raw.get("due_in_days", 1)
    if _whole(due, low=0, high=MAX_TASK_DAYS) is None:
        errors.add(f"{where}.due_in_days", f"Use a whole number of days from 0 to {MAX_TASK_DAYS}.")
    else:
        config["due_in_days"] = due


def _clean_branch(raw: dict, where: str, index: int, count: int, config: dict[str, Any], errors: FieldErrors) -> None:
    on = raw.get("on")
    if on not in BRANCH_ON:
        errors.add(f"{where}.on", f"Choose one of: {', '.join(BRANCH_ON)}.")
    within = raw.get("within_days", 0 if on != "no_response" else None)
    if _whole(within, low=0, high=MAX_BRANCH_DAYS) is None:
        errors.add(f"{where}.within_days", f"Use a whole number of days from 0 to {MAX_BRANCH_DAYS}.")
    # Jumps go forward only (the position after the last step means "finish"), so every walk through a
    # sequence ends and no step is ever run twice for one person.
    for key, default in (("then", None), ("else", index + 1)):
        target = raw.get(key, default)
        if _whole(target, low=index + 1, high=count) is None:
            errors.add(
                f"{where}.{key}", f"Jump to a later step: a position from {index + 1} to {count} ({count} ends)."
            )
        else:
            config[key] = target
    config["on"], config["within_days"] = on, within


# --- time -----------------------------------------------------------------------------------------------------------


def local_moment(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """`clock` on `day` in `zone`, as UTC; a time in the spring-forward gap comes out just after the gap."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def add_business_days(start: datetime, days: int, zone: ZoneInfo) -> datetime:
    """`days` working days (Monday to Friday) after `start`, at the same local time; from a weekend the count
    starts on Monday."""
    local = start.astimezone(zone)
    day = local.date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    return local_moment(day, local.timetz().replace(tzinfo=None), zone)


def wait_until(start: datetime, config: dict[str, Any], zone: ZoneInfo) -> datetime:
    """When a wait step that begins at `start` ends, for a person in `zone`."""
    if "minutes" in config:
        return start + timedelta(minutes=config["minutes"])
    if "hours" in config:
        return start + timedelta(hours=config["hours"])
    if "days" in config:
        if config.get("business_days"):
            return add_business_days(start, config["days"], zone)
        local = start.astimezone(zone)
        return local_moment(local.date() + timedelta(days=config["days"]), local.time(), zone)
    if "until" in config:
        target = WEEKDAYS.index(config["until"]["weekday"])
        clock = parse_clock(config["until"]["time"]) or time(9)
        local = start.astimezone(zone)
        ahead = (target - local.weekday()) % 7
        moment = local_moment(local.date() + timedelta(days=ahead), clock, zone)
        if moment <= start:
            moment = local_moment(local.date() + timedelta(days=ahead + 7), clock, zone)
        return moment
    return start


@dataclass(frozen=True)
class SendWindow:
    """The hours (and weekdays) a sequence's messages may go out, read in each person's own zone."""

    start: time
    end: time
    days: tuple[str, ...] = ()

    def allows(self, day: date) -> bool:
        return not self.days or WEEKDAYS[day.weekday()] in self.days


def next_send_time(at: datetime, window: SendWindow | None, zone: ZoneInfo) -> datetime:
    """`at` when it falls inside the window in the person's zone; else the window's next opening."""
    if window is None:
        return at
    local = at.astimezone(zone)
    day = local.date()
    for offset in range(8):
        current = day + timedelta(days=offset)
        if not window.allows(current):
            continue
        opens = local_moment(current, window.start, zone)
        closes = local_moment(current, window.end, zone)
        if at < opens:
            return opens
        if at < closes:
            return at
    return at  # unreachable with at least one allowed day; never hold a message forever


def window_of(sequence: Any) -> SendWindow | None:
    if sequence.send_window_start is None or sequence.send_window_end is None:
        return None
    return SendWindow(sequence.send_window_start, sequence.send_window_end, tuple(sequence.send_window_days or ()))


# --- A/B ------------------------------------------------------------------------------------------------------------


def choose_variant(candidate_id: int, step_id: int, variants: Iterable[Any]) -> Any:
    """The person's variant: a weighted pick from a hash of (person, step), so the same person always gets the
    same one, however often or wherever it is computed, and the split over many people follows the weights."""
    ordered = sorted(variants, key=lambda v: v.label)
    if not ordered:
        return None
    weights = [max(v.weight, 1) for v in ordered]
    digest = hashlib.sha256(f"{candidate_id}:{step_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % sum(weights)
    for variant, weight in zip(ordered, weights, strict=True):
        point -= weight
        if point < 0:
            return variant
    return ordered[-1]
