"""Writes for WhatsApp: saving a template together with the approved WhatsApp template it may be sent as."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.common.errors import FieldErrors, ValidationFailed
from rapport.messaging.channels.whatsapp.content import whatsapp_content_clean
from rapport.messaging.models import MessageTemplate, TemplateChannel
from rapport.messaging.selectors import custom_field_keys
from rapport.timeline.services import audit_record

CONTENT_FIELDS = ("whatsapp_content_sid", "whatsapp_variables")


@transaction.atomic
def message_template_save(*, actor: User, template: MessageTemplate | None, data: dict[str, Any]) -> MessageTemplate:
    """Create (`template` None) or change a template, with its approved WhatsApp template (`whatsapp_content_sid`,
    `whatsapp_variables`) when `data` has them; every problem of both is reported at once, and nothing is saved
    unless all of it is valid.

    The WhatsApp fields belong to WhatsApp templates only: moving a template to another channel drops them, and
    giving them for another channel is an error.
    """
    from rapport.messaging.services import message_template_create, message_template_update

    data = dict(data)
    given = {name: data.pop(name) for name in CONTENT_FIELDS if name in data}
    saved: MessageTemplate | None = None
    refused: ValidationFailed | None = None
    try:
        if template is None:
            saved = message_template_create(actor=actor, data=data)
        else:
            saved = message_template_update(actor=actor, template=template, data=data)
    except ValidationFailed as exc:
        refused = exc
    channel = data.get("channel") if data.get("channel") in TemplateChannel.values else None
    channel = channel or (template.channel if template is not None else TemplateChannel.EMAIL)
    current = {
        "whatsapp_content_sid": template.whatsapp_content_sid if template is not None else "",
        "whatsapp_variables": template.whatsapp_variables if template is not None else {},
    }
    if channel != TemplateChannel.WHATSAPP:
        # A stale Content SID from when this was a WhatsApp template is dropped, as a stale subject is for SMS.
        current = {"whatsapp_content_sid": "", "whatsapp_variables": {}}
    values = {**current, **given}
    errors = FieldErrors()
    sid, variables = whatsapp_content_clean(
        channel=channel,
        content_sid=values["whatsapp_content_sid"],
        variables=values["whatsapp_variables"],
        custom_keys=custom_field_keys(),
        errors=errors,
    )
    if refused is not None:
        # The template's own error keeps its message; the WhatsApp fields' problems are added beside it.
        refused.fields = {**refused.fields, **errors.fields}
        raise refused
    errors.raise_if_any()
    assert saved is not None
    old = (saved.whatsapp_content_sid, saved.whatsapp_variables or {})
    if old != (sid, variables):
        saved.whatsapp_content_sid = sid
        saved.whatsapp_variables = variables
        saved.updated_at = timezone.now()
        saved.save(update_fields=[*CONTENT_FIELDS, "updated_at"])
        audit_record(
            actor=actor,
            action="update",
            object_type="message_template",
            object_id=saved.pk,
            changes={"whatsapp_content_sid": [old[0], sid], "whatsapp_variables": [old[1], variables]},
        )
    return saved
