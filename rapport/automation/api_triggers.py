"""API: triggers (when → if → then rules): list, create, read, change, and each trigger's run log."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.api.idempotency import DESCRIPTION as IDEMPOTENCY
from rapport.api.idempotency import idempotent
from rapport.api.schemas import Id, InputSchema, PageParams, keyset_page, listing, path_id, responses, str_id
from rapport.automation.models import Trigger, TriggerRun
from rapport.automation.selectors_triggers import trigger_get_for_user, trigger_list, trigger_run_list
from rapport.automation.services_triggers import ACTIONS, EVENTS, trigger_create, trigger_update

router = Router(tags=["Triggers"])

ACCESS = (
    "Admins and recruiters manage triggers; other roles get an empty list, 404 for a trigger and 403 for creating one."
)
BODY = (
    f"`event` is one of: {', '.join(f'`{e}`' for e in EVENTS)}. `action` is one of: "
    f"{', '.join(f'`{a}`' for a in ACTIONS)}. `conditions` is a list of `{{field, op, value}}` (`op`: eq, ne, in, "
    "contains; `field`: a payload key, or `candidate.*`, `application.*`, `job.*`, `message.*`), all of which must "
    "hold. `delay_minutes` delays the action; `config.offsets` (minutes, from `config.anchor`: `event`, "
    "`start_date` or a payload time such as `payload.starts_at`) makes one run per offset. Errors name the field, "
    "such as `conditions[1].op` or `config.offsets`."
)


class TriggerOut(Schema):
    id: str
    key: str | None = Field(..., description="Set on the shipped defaults.")
    name: str
    description: str
    enabled: bool
    event: str
    conditions: list[dict[str, Any]]
    action: str
    template_id: str | None
    sequence_id: str | None
    delay_minutes: int
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_id(obj: Trigger) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_template_id(obj: Trigger) -> str | None:
        return str_id(obj.template_id)

    @staticmethod
    def resolve_sequence_id(obj: Trigger) -> str | None:
        return str_id(obj.sequence_id)


class TriggerPage(Schema):
    items: list[TriggerOut]
    next_cursor: str | None


class TriggerParams(PageParams):
    enabled: bool | None = Field(None, description="Only the triggers switched on (`true`) or off (`false`).")
    event: str | None = Field(None, description="Only the triggers on this event.")


class TriggerCreate(InputSchema):
    name: str = Field(..., description="Up to 200 characters.")
    description: str | None = None
    enabled: bool = Field(False, description="New triggers are off unless this says otherwise.")
    event: str
    conditions: list[Any] | None = None
    action: str
    template_id: Id | None = Field(None, description="The template a `send_message` trigger sends.")
    sequence_id: Id | None = Field(None, description="The sequence an `enrol` trigger enrols people in.")
    delay_minutes: int = Field(0, description="Minutes to wait after the event (or anchor).")
    config: dict[str, Any] | None = None


class TriggerPatch(InputSchema):
    name: str | None = None
    description: str | None = None
    enabled: bool | None = Field(None, description="`false` switches the trigger off, `true` on.")
    event: str | None = None
    conditions: list[Any] | None = None
    action: str | None = None
    template_id: Id | None = None
    sequence_id: Id | None = None
    delay_minutes: int | None = None
    config: dict[str, Any] | None = None


class RunOut(Schema):
    id: str
    trigger_id: str
    candidate_id: str | None
    activity_id: str | None = Field(..., description="The timeline event it fired for; null for date rules.")
    status: str = Field(..., description="scheduled, done, skipped or failed.")
    due_at: datetime
    offset: int = Field(..., description="Minutes from the anchor, for multi-touch rules.")
    attempts: int
    detail: str = Field(..., description="What it did, why it was skipped, or why it failed.")
    message_id: str | None
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_id(obj: TriggerRun) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_trigger_id(obj: TriggerRun) -> str:
        return str(obj.trigger_id)

    @staticmethod
    def resolve_candidate_id(obj: TriggerRun) -> str | None:
        return str_id(obj.candidate_id)

    @staticmethod
    def resolve_activity_id(obj: TriggerRun) -> str | None:
        return str_id(obj.activity_id)

    @staticmethod
    def resolve_message_id(obj: TriggerRun) -> str | None:
        return str_id(obj.message_id)


class RunPage(Schema):
    items: list[RunOut]
    next_cursor: str | None


class RunParams(PageParams):
    status: str | None = Field(None, description="Only runs in this status: scheduled, done, skipped or failed.")


def _trigger(request: HttpRequest, trigger_id: str) -> Trigger:
    return trigger_get_for_user(user=request.auth, trigger_id=path_id(trigger_id))


def _data(payload: InputSchema, *, keep_null: set[str]) -> dict[str, Any]:
    """The fields sent; a null clears only the fields where null means something (the template, the sequence)."""
    data = payload.model_dump(exclude_unset=True)
    return {k: v for k, v in data.items() if v is not None or k in keep_null}


@router.get(
    "/triggers",
    response=responses({200: TriggerPage}, 400, 422),
    summary="List triggers",
    description=listing(f"Triggers, oldest first, filtered by `enabled` and `event`. {ACCESS}"),
)
def list_triggers(request: HttpRequest, params: Query[TriggerParams]) -> dict[str, Any]:
    qs = trigger_list(user=request.auth, enabled=params.enabled, event=params.event)
    items, next_cursor = keyset_page(qs, limit=params.limit, cursor=params.cursor, newest_first=False)
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "/triggers",
    response=responses({201: TriggerOut}, 400, 403, 422),
    summary="Create a trigger",
    description=f"201 with the trigger. {BODY} {ACCESS} " + IDEMPOTENCY,
)
@idempotent
def create_trigger(request: HttpRequest, payload: TriggerCreate) -> Status:
    trigger = trigger_create(actor=request.auth, data=_data(payload, keep_null=set()))
    return Status(201, trigger_get_for_user(user=request.auth, trigger_id=trigger.pk))


@router.get(
    "/triggers/{trigger_id}",
    response=responses({200: TriggerOut}, 404),
    summary="One trigger",
    description=ACCESS,
)
def get_trigger(request: HttpRequest, trigger_id: str) -> Trigger:
    return _trigger(request, trigger_id)


@router.patch(
    "/triggers/{trigger_id}",
    response=responses({200: TriggerOut}, 400, 403, 404, 422),
    summary="Change a trigger",
    description='Changes only the fields sent; `{"enabled": false}` switches it off (runs already scheduled are '
    f"then skipped when due). `template_id: null` or `sequence_id: null` clears them. {BODY} {ACCESS}",
)
def update_trigger(request: HttpRequest, trigger_id: str, payload: TriggerPatch) -> Trigger:
    trigger = _trigger(request, trigger_id)
    trigger_update(actor=request.auth, trigger=trigger, data=_data(payload, keep_null={"template_id", "sequence_id"}))
    return trigger_get_for_user(user=request.auth, trigger_id=trigger.pk)


@router.get(
    "/triggers/{trigger_id}/runs",
    response=responses({200: RunPage}, 400, 404, 422),
    summary="A trigger's run log",
    description=listing(
        "Every run of the trigger, newest first: when it is or was due, what it did, why it was skipped, how many "
        f"attempts it took, and why it failed. {ACCESS}"
    ),
)
def list_runs(request: HttpRequest, trigger_id: str, params: Query[RunParams]) -> dict[str, Any]:
    trigger = _trigger(request, trigger_id)
    page = trigger_run_list(trigger=trigger, cursor=params.cursor, limit=params.limit, status=params.status)
    return {"items": page.items, "next_cursor": page.next_cursor}
