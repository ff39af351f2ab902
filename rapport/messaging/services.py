"""Writes of message templates: every save is checked (syntax and merge fields) and audited."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, ensure
from rapport.common.errors import ValidationFailed
from rapport.common.ids import parse_id
from rapport.jobs.models import Stage, StageTemplate
from rapport.messaging.models import MessageTemplate, TemplateCategory, TemplateChannel
from rapport.messaging.rendering import LANGUAGE_CODE, normalise_language, validate_parts
from rapport.messaging.selectors import custom_field_keys
from rapport.timeline.services import audit_record

MAX_NAME = 120
MAX_SUBJECT = 300
MAX_BODY = 20_000
MAX_VARIANTS = 20
_AUDITED = ("name", "channel", "category", "language", "subject")


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.fields:
            field, messages = next(iter(self.fields.items()))
            raise ValidationFailed(f"Please check {field}: {messages[0]}", fields=self.fields)


def _text(data: dict[str, Any], name: str, max_len: int, errors: _Errors, *, field: str | None = None) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.add(field or name, "Must be text.")
        return ""
    value = value.strip()
    if len(value) > max_len:
        errors.add(field or name, f"Use at most {max_len:,} characters.")
    return value


def _language(value: Any, field: str, errors: _Errors) -> str:
    code = normalise_language(value if isinstance(value, str) else "")
    if code and not LANGUAGE_CODE.match(code):
        errors.add(field, "Use a language code such as en, fr or pt-br.")
    return code


def _clean_variants(value: Any, *, channel: str, default_language: str, errors: _Errors) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        errors.add("variants", "Give variants as a list of {language, subject, body}.")
        return []
    if len(value) > MAX_VARIANTS:
        errors.add("variants", f"Use at most {MAX_VARIANTS} language variants.")
        return []
    cleaned: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, raw in enumerate(value):
        language = _language(raw.get("language"), f"variants.{index}.language", errors)
        where = f"variants.{language or index}"
        if not language:
            errors.add(f"{where}.language", "Each variant needs a language code, such as fr.")
        elif language in seen:
            errors.add(f"{where}.language", f"There is already a variant in {language}.")
        elif language == default_language:
            errors.add(f"{where}.language", "This is the template's own language; edit the default text instead.")
        seen.add(language)
        subject = _text(raw, "subject", MAX_SUBJECT, errors, field=f"{where}.subject")
        body = _text(raw, "body", MAX_BODY, errors, field=f"{where}.body")
        if channel == TemplateChannel.EMAIL and not subject:
            errors.add(f"{where}.subject", "An email variant needs a subject.")
        if not body:
            errors.add(f"{where}.body", "Write the message in this language.")
        cleaned.append(
            {"language": language, "subject": subject if channel == TemplateChannel.EMAIL else "", "body": body}
        )
    return cleaned


def _clean(data: dict[str, Any], *, template: MessageTemplate | None) -> dict[str, Any]:
    """The template's fields after applying `data` (a whole template, or a partial change to `template`)."""
    errors = _Errors()
    current: dict[str, Any] = {
        "name": template.name if template else "",
        "channel": template.channel if template else TemplateChannel.EMAIL,
        "category": template.category if template else TemplateCategory.GENERAL,
        "subject": template.subject if template else "",
        "body": template.body if template else "",
        "language": template.language if template else "",
        "variants": template.variants if template else [],
    }
    out = dict(current)
    if "name" in data:
        out["name"] = _text(data, "name", MAX_NAME, errors)
    for name, choices in (("channel", TemplateChannel), ("category", TemplateCategory)):
        if name in data and data[name] is not None:
            if data[name] not in choices.values:
                errors.add(name, f"Choose one of: {', '.join(choices.values)}.")
            else:
                out[name] = data[name]
    if "subject" in data:
        out["subject"] = " ".join(_text(data, "subject", MAX_SUBJECT, errors).split())
    if "body" in data:
        out["body"] = _text(data, "body", MAX_BODY, errors)
    if "language" in data:
        out["language"] = _language(data["language"], "language", errors)
    if not out["name"]:
        errors.add("name", "Give the template a name your team will recognise.")
    elif (
        MessageTemplate.objects.filter(name__iexact=out["name"]).exclude(pk=template.pk if template else None).exists()
    ):
        errors.add("name", "A template with this name already exists.")
    if out["channel"] != TemplateChannel.EMAIL:
        # SMS and WhatsApp have no subject line; a stale one from a former email template is dropped.
        out["subject"] = ""
    elif not out["subject"]:
        errors.add("subject", "An email needs a subject.")
    if not out["body"]:
        errors.add("body", "Write the message.")
    variants = data["variants"] if "variants" in data else current["variants"]
    out["variants"] = _clean_variants(variants, channel=out["channel"], default_language=out["language"], errors=errors)
    errors.raise_if_any()
    parts = {"subject": out["subject"], "body": out["body"]}
    for variant in out["variants"]:
        parts[f"variants.{variant['language']}.subject"] = variant["subject"]
        parts[f"variants.{variant['language']}.body"] = variant["body"]
    validate_parts(parts, custom_keys=custom_field_keys())
    return out


def _lookup(model: type[Stage] | type[StageTemplate], value: Any, field: str, label: str) -> Any:
    try:
        return model.objects.get(pk=parse_id(value))
    except (model.DoesNotExist, TypeError, ValueError):
        raise ValidationFailed.single(field, f"There is no {label} with this id.")


def _set_stage_defaults(*, template: MessageTemplate, data: dict[str, Any]) -> dict[str, Any]:
    """Apply `stage_id` / `stage_template_id`: make this the stage's default template, or (None) no stage's."""
    changes: dict[str, Any] = {}
    for field, model, label in (
        ("stage_id", Stage, "stage"),
        ("stage_template_id", StageTemplate, "stage in the organisation pipeline"),
    ):
        if field not in data:
            continue
        value = data[field]
        if value in (None, ""):
            model.objects.filter(default_template=template).update(default_template=None)
            changes[field] = None
            continue
        stage = _lookup(model, value, field, label)
        if model is StageTemplate:
            # The organisation pipeline offers one stage per template, so choosing another moves it there.
            StageTemplate.objects.filter(default_template=template).exclude(pk=stage.pk).update(default_template=None)
        if stage.default_template_id != template.pk:
            stage.default_template = template
            stage.save(update_fields=["default_template"])
        changes[field] = stage.pk
    return changes


@transaction.atomic
def message_template_create(*, actor: User, data: dict[str, Any]) -> MessageTemplate:
    """Create a template after checking its syntax and that every merge field it names exists."""
    ensure(actor, Capability.MANAGE_TEMPLATES)
    cleaned = _clean(data, template=None)
    now = timezone.now()
    template = MessageTemplate.objects.create(**cleaned, created_by=actor, created_at=now, updated_at=now)
    stages = _set_stage_defaults(template=template, data=data)
    audit_record(
        actor=actor,
        action="create",
        object_type="message_template",
        object_id=template.pk,
        changes={"name": template.name, "channel": template.channel, "category": template.category, **stages},
    )
    return template


@transaction.atomic
def message_template_update(*, actor: User, template: MessageTemplate, data: dict[str, Any]) -> MessageTemplate:
    """Change the fields in `data`; the whole result is checked again, so a template is never saved broken."""
    ensure(actor, Capability.MANAGE_TEMPLATES)
    cleaned = _clean(data, template=template)
    changes: dict[str, Any] = {}
    for field, value in cleaned.items():
        old = getattr(template, field)
        if old != value:
            # Bodies can be long; the audit says that they changed, the template itself holds the text.
            changes[field] = [old, value] if field in _AUDITED else "changed"
            setattr(template, field, value)
    if changes:
        template.updated_at = timezone.now()
        template.save()
    changes.update(_set_stage_defaults(template=template, data=data))
    if changes:
        audit_record(
            actor=actor, action="update", object_type="message_template", object_id=template.pk, changes=changes
        )
    return template


@transaction.atomic
def message_template_delete(*, actor: User, template: MessageTemplate) -> None:
    """Delete a template; stages that suggested it simply stop suggesting one."""
    ensure(actor, Capability.MANAGE_TEMPLATES)
    audit_record(
        actor=actor,
        action="delete",
        object_type="message_template",
        object_id=template.pk,
        changes={"name": template.name, "channel": template.channel, "category": template.category},
    )
    template.delete()
