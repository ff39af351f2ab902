"""Forms for people: they parse what a browser sends into the shape the services take, and carry errors back.

Validation rules live in the services (`candidate_create`, `candidate_clean`, …); these forms only check what
HTML cannot express and map service field names onto form fields.
"""

import zoneinfo
from functools import lru_cache
from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from rapport.accounts.models import Role, User
from rapport.candidates.models import (
    AttachmentKind,
    Candidate,
    Channel,
    CustomFieldDefinition,
    CustomFieldType,
    RelationshipStatus,
)
from rapport.common.errors import ApplicationError
from rapport.common.forms import QuickSelect, StyledFormMixin
from rapport.timeline.models import NoteKind

CUSTOM_PREFIX = "cf_"
# Service error keys that do not match a form field name one-to-one.
SERVICE_FIELD_MAP = {
    "owner_id": "owner",
    "location": "country",
    "merged_id": "other",
    "candidate_ids": None,
}


@lru_cache(maxsize=1)
def timezone_names() -> list[str]:
    return sorted(n for n in zoneinfo.available_timezones() if "/" in n and not n.startswith(("Etc/", "SystemV/")))


class MultiInput(forms.Widget):
    """Several text inputs under one name (emails, phones, links), with a button to add another row."""

    input_type = "text"

    def __init__(self, attrs: dict | None = None, *, input_type: str = "text", add_label: str = "Add another"):
        super().__init__(attrs)
        self.input_type = input_type
        self.add_label = add_label

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        getlist = getattr(data, "getlist", None)
        values = getlist(name) if getlist else data.get(name, [])
        if isinstance(values, str):
            values = [values]
        return [v for v in values if isinstance(v, str)]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data

    def format_value(self, value: Any) -> list[str]:
        if not value:
            return []
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value]

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None) -> SafeString:
        attrs = {**self.attrs, **(attrs or {})}
        values = self.format_value(value) or [""]
        base_id = attrs.pop("id", f"id_{name}")
        css = attrs.pop("class", "input")
        extra = {k: v for k, v in attrs.items() if k not in {"required"}}
        extra_html = format_html_join(" ", '{}="{}"', ((k, v) for k, v in extra.items() if v not in (None, False)))
        rows = format_html_join(
            "",
            '<div class="repeat-row" data-repeat-row><input type="{}" name="{}" value="{}" class="{}" id="{}" {}>'
            '<button type="button" class="btn btn--ghost btn--icon btn--sm" data-repeat-remove '
            'aria-label="Remove">×</button></div>',
            (
                (self.input_type, name, v, css, base_id if i == 0 else f"{base_id}_{i}", extra_html)
                for i, v in enumerate(values)
            ),
        )
        return format_html(
            '<div class="repeat-list" data-repeat>{}<div><button type="button" class="link-button text-sm" '
            "data-repeat-add>+ {}</button></div></div>",
            rows,
            self.add_label,
        )


class MultiValueField(forms.Field):
    widget = MultiInput

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        return [v.strip() for v in value if v and v.strip()]

    def validate(self, value: list[str]) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


def comma_list(text: str) -> list[str]:
    return [part.strip() for part in (text or "").replace("\n", ",").split(",") if part.strip()]


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.name or obj.email


def owner_queryset():
    return User.objects.filter(is_active=True, role__in=[Role.ADMIN, Role.RECRUITER]).order_by("name")


class CandidateForm(StyledFormMixin, forms.Form):
    """Every editable field of a person, plus one field per custom-field definition."""

    first_name = forms.CharField(
        label="First name", max_length=100, error_messages={"required": "A first name is required."}
    )
    last_name = forms.CharField(label="Last name", max_length=100, required=False)
    headline = forms.CharField(
        label="Headline", max_length=200, required=False, help_text="One line, e.g. “Backend engineer, payments”."
    )
    current_title = forms.CharField(label="Current title", max_length=150, required=False)
    current_company = forms.CharField(label="Current company", max_length=150, required=False)
    emails = MultiValueField(
        label="Emails",
        required=False,
        widget=MultiInput(input_type="email", add_label="Add another email", attrs={"autocomplete": "off"}),
        help_text="The first one is the main address.",
    )
    phones = MultiValueField(
        label="Phones",
        required=False,
        widget=MultiInput(input_type="tel", add_label="Add another phone", attrs={"autocomplete": "off"}),
        help_text="International form is safest, e.g. +44 20 7946 0958.",
    )
    city = forms.CharField(label="City", max_length=100, required=False)
    region = forms.CharField(label="Region", max_length=100, required=False)
    country = forms.CharField(
        label="Country",
        max_length=2,
        required=False,
        help_text="Two-letter code, e.g. DE or US.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "style": "text-transform: uppercase"}),
    )
    timezone = forms.CharField(
        label="Time zone",
        max_length=64,
        required=False,
        help_text="e.g. Europe/Berlin",
        widget=forms.TextInput(attrs={"list": "timezone-options", "autocomplete": "off"}),
    )
    skills = forms.CharField(label="Skills", required=False, help_text="Separate with commas.")
    tags = forms.CharField(label="Tags", required=False, help_text="Separate with commas.")
    links = MultiValueField(
        label="Links",
        required=False,
        widget=MultiInput(input_type="url", add_label="Add another link"),
        help_text="LinkedIn, GitHub, portfolio… starting with https://",
    )
    source = forms.CharField(
        label="Source", max_length=50, required=False, help_text="Where you found them, e.g. LinkedIn or Referral."
    )
    owner = OwnerChoiceField(label="Owner", queryset=User.objects.none(), required=False, empty_label="No owner")
    relationship_status = forms.ChoiceField(
        label="Relationship", choices=RelationshipStatus.choices, initial=RelationshipStatus.LEAD
    )
    preferred_channel = forms.ChoiceField(label="Preferred channel", choices=Channel.choices, initial=Channel.EMAIL)
    language = forms.CharField(
        label="Language", max_length=10, required=False, help_text="A language code, e.g. en or de."
    )
    birthday = forms.DateField(
        label="Birthday",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Use a date like 1990-04-23."},
    )

    SECTIONS = [
        ("Person", ["first_name", "last_name", "headline", "current_title", "current_company"]),
        ("Contact", ["emails", "phones", "links", "preferred_channel", "language"]),
        ("Location", ["city", "region", "country", "timezone"]),
        ("Relationship", ["relationship_status", "owner", "source", "skills", "tags", "birthday"]),
    ]

    def __init__(self, *args: Any, definitions: list[CustomFieldDefinition] | None = None, **kwargs: Any):
        self.definitions = list(definitions or [])
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_queryset()
        for definition in self.definitions:
            self.fields[CUSTOM_PREFIX + definition.key] = custom_form_field(definition)
        self.style_widgets()

    def custom_field_names(self) -> list[str]:
        return [CUSTOM_PREFIX + d.key for d in self.definitions]

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        out = [(title, [self[name] for name in names]) for title, names in self.SECTIONS]
        if self.definitions:
            out.append(("Custom fields", [self[name] for name in self.custom_field_names()]))
        return out

    def to_service_data(self) -> dict[str, Any]:
        """The cleaned form in the shape candidate_create/candidate_update take."""
        c = self.cleaned_data
        owner = c.get("owner")
        data: dict[str, Any] = {
            "first_name": c.get("first_name", ""),
            "last_name": c.get("last_name", ""),
            "headline": c.get("headline", ""),
            "current_title": c.get("current_title", ""),
            "current_company": c.get("current_company", ""),
            "emails": c.get("emails", []),
            "phones": c.get("phones", []),
            "location": {"city": c.get("city", ""), "region": c.get("region", ""), "country": c.get("country", "")},
            "timezone": c.get("timezone", ""),
            "skills": comma_list(c.get("skills", "")),
            "tags": comma_list(c.get("tags", "")),
            "links": c.get("links", []),
            "source": c.get("source", ""),
            "owner_id": owner.pk if owner else None,
            "relationship_status": c.get("relationship_status") or RelationshipStatus.LEAD,
            "preferred_channel": c.get("preferred_channel") or Channel.EMAIL,
            "language": c.get("language", ""),
            "birthday": c.get("birthday"),
        }
        custom: dict[str, Any] = {}
        for definition in self.definitions:
            value = c.get(CUSTOM_PREFIX + definition.key)
            if definition.field_type == CustomFieldType.BOOLEAN:
                custom[definition.key] = bool(value)
            elif value not in (None, ""):
                custom[definition.key] = value.isoformat() if hasattr(value, "isoformat") else value
        data["custom_fields"] = custom
        return data

    def add_service_error(self, exc: ApplicationError) -> None:
        """Put a service's field errors next to the fields; anything else goes above the form."""
        placed = False
        for key, messages in (exc.fields or {}).items():
            target: str | None
            if key.startswith("custom_fields."):
                target = CUSTOM_PREFIX + key.split(".", 1)[1]
            else:
                target = SERVICE_FIELD_MAP.get(key, key)
            if target not in self.fields:
                target = None
            for message in messages:
                self.add_error(target, message)
                placed = True
        if not placed:
            self.add_error(None, exc.message)


def custom_form_field(definition: CustomFieldDefinition) -> forms.Field:
    label = definition.label
    kind = definition.field_type
    if kind == CustomFieldType.NUMBER:
        return forms.FloatField(label=label, required=False, error_messages={"invalid": f"{label} must be a number."})
    if kind == CustomFieldType.DATE:
        return forms.DateField(
            label=label,
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            error_messages={"invalid": "Use a date like 2026-01-31."},
        )
    if kind == CustomFieldType.BOOLEAN:
        return forms.BooleanField(label=label, required=False)
    if kind == CustomFieldType.CHOICE:
        return forms.ChoiceField(
            label=label, required=False, choices=[("", "—")] + [(c, c) for c in definition.choices]
        )
    if kind == CustomFieldType.URL:
        return forms.CharField(
            label=label, required=False, max_length=1000, widget=forms.URLInput(attrs={"placeholder": "https://"})
        )
    return forms.CharField(label=label, required=False, max_length=1000)


def initial_from_candidate(candidate: Candidate, definitions: list[CustomFieldDefinition]) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "first_name": candidate.first_name,
        "last_name": candidate.last_name,
        "headline": candidate.headline,
        "current_title": candidate.current_title,
        "current_company": candidate.current_company,
        "emails": [e.email for e in candidate.emails.all()],
        "phones": [p.phone for p in candidate.phones.all()],
        "city": candidate.city,
        "region": candidate.region,
        "country": candidate.country,
        "timezone": candidate.timezone,
        "skills": ", ".join(candidate.skills or []),
        "tags": ", ".join(ct.tag.name for ct in candidate.candidate_tags.all()),
        "links": list(candidate.links or []),
        "source": candidate.source,
        "owner": candidate.owner_id,
        "relationship_status": candidate.relationship_status,
        "preferred_channel": candidate.preferred_channel,
        "language": candidate.language,
        "birthday": candidate.birthday,
    }
    for definition in definitions:
        initial[CUSTOM_PREFIX + definition.key] = (candidate.custom_fields or {}).get(definition.key)
    return initial


def merge_new_data(existing: Candidate, data: dict[str, Any]) -> dict[str, Any]:
    """What to write onto an existing person so a duplicate entry adds to them and never overwrites them.

    Blank fields are filled; lists (emails, phones, skills, links, tags) gain the new entries.
    """

    def union(old: list[str], new: list[str]) -> list[str]:
        seen = {str(v).lower() for v in old}
        return [*old, *[v for v in new if str(v).lower() not in seen]]

    update: dict[str, Any] = {}
    for field in ["last_name", "headline", "current_title", "current_company", "source", "language", "timezone"]:
        if not getattr(existing, field) and data.get(field):
            update[field] = data[field]
    if not existing.birthday and data.get("birthday"):
        update["birthday"] = data["birthday"]
    if not existing.owner_id and data.get("owner_id"):
        update["owner_id"] = data["owner_id"]
    location = data.get("location") or {}
    if not (existing.city or existing.region or existing.country) and any(location.values()):
        update["location"] = location
    update["emails"] = union([e.email for e in existing.emails.all()], data.get("emails") or [])
    update["phones"] = union([p.phone for p in existing.phones.all()], data.get("phones") or [])
    update["skills"] = union(list(existing.skills or []), data.get("skills") or [])
    update["links"] = union(list(existing.links or []), data.get("links") or [])
    update["tags"] = union([ct.tag.name for ct in existing.candidate_tags.all()], data.get("tags") or [])
    custom = dict(data.get("custom_fields") or {})
    custom.update({k: v for k, v in (existing.custom_fields or {}).items() if v not in (None, "")})
    update["custom_fields"] = custom
    return update


class FilterForm(forms.Form):
    """The candidate list's query string; values are passed on to candidate_list, which validates them."""

    q = forms.CharField(required=False, max_length=500)
    status = forms.CharField(required=False)
    tag = forms.CharField(required=False, max_length=50)
    pool = forms.CharField(required=False)
    job = forms.CharField(required=False)
    stage = forms.CharField(required=False)
    source = forms.CharField(required=False, max_length=50)
    owner = forms.CharField(required=False)
    country = forms.CharField(required=False, max_length=2)
    city = forms.CharField(required=False, max_length=100)
    created_after = forms.CharField(required=False)
    created_before = forms.CharField(required=False)
    updated_since = forms.CharField(required=False)
    engagement_min = forms.CharField(required=False, max_length=20)


class NoteForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(choices=NoteKind.choices, initial=NoteKind.NOTE, widget=forms.HiddenInput)
    body = forms.CharField(
        label="Note",
        max_length=20_000,
        error_messages={"required": "Write something before saving."},
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Write a note… Markdown works."}),
    )
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)",
        required=False,
        min_value=1,
        max_value=24 * 60,
        error_messages={"invalid": "Give the duration in whole minutes."},
        widget=forms.NumberInput(attrs={"class": "input--sm", "style": "width: 96px"}),
    )
    outcome = forms.ChoiceField(
        label="Outcome",
        required=False,
        choices=[
            ("", "Outcome…"),
            ("connected", "Connected"),
            ("left_voicemail", "Left a voicemail"),
            ("no_answer", "No answer"),
        ],
        widget=forms.Select(attrs={"class": "select--sm"}),
    )

    def extra(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.cleaned_data.get("duration_minutes"):
            out["duration_minutes"] = self.cleaned_data["duration_minutes"]
        if self.cleaned_data.get("kind") == NoteKind.CALL and self.cleaned_data.get("outcome"):
            out["outcome"] = self.cleaned_data["outcome"]
        return out


class AttachmentForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label="File", error_messages={"required": "Choose a file to upload.", "empty": "The file is empty."}
    )
    kind = forms.ChoiceField(
        label="Kind", choices=AttachmentKind.choices, initial=AttachmentKind.RESUME, required=False
    )

    def clean_kind(self) -> str:
        return self.cleaned_data.get("kind") or AttachmentKind.OTHER


class TagForm(StyledFormMixin, forms.Form):
    tag = forms.CharField(
        label="Tag",
        max_length=50,
        error_messages={"required": "Type a tag.", "max_length": "Keep tags under 50 characters."},
        widget=forms.TextInput(attrs={"list": "tag-options", "autocomplete": "off", "placeholder": "Add a tag…"}),
    )


class PoolChoiceForm(StyledFormMixin, forms.Form):
    pool = forms.TypedChoiceField(
        label="Talent pool",
        coerce=int,
        choices=(),
        error_messages={"required": "Choose a pool."},
        widget=QuickSelect,
    )
    reason = forms.CharField(
        label="Why (optional)",
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Strong Go, open to relocation"}),
    )

    def __init__(self, *args: Any, pools: Any = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["pool"].choices = [("", "Choose a pool…")] + [(p.pk, p.name) for p in pools]


class JobChoiceForm(StyledFormMixin, forms.Form):
    job = forms.TypedChoiceField(
        label="Job", coerce=int, choices=(), error_messages={"required": "Choose a job."}, widget=QuickSelect
    )

    def __init__(self, *args: Any, jobs: Any = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["job"].choices = [("", "Choose a job…")] + [(j.pk, j.title) for j in jobs]


class OwnerForm(StyledFormMixin, forms.Form):
    owner = OwnerChoiceField(label="New owner", queryset=User.objects.none(), required=False, empty_label="No owner")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_queryset()


class BulkIdsForm(forms.Form):
    """The selected rows of a bulk action."""

    ids = forms.TypedMultipleChoiceField(coerce=int, required=True, choices=())

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["ids"].error_messages["required"] = "Select at least one person first."

    def clean_ids(self) -> list[int]:
        return self.cleaned_data["ids"]

    def full_clean(self) -> None:
        # The choices are whatever ids were posted; scope is checked by the view against candidates_visible_to.
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else self.data.get("ids", [])
        self.fields["ids"].choices = [(v, v) for v in raw]
        super().full_clean()
        if not self.errors:
            return
        if "ids" in self.errors and raw and any(not str(v).isdigit() for v in raw):
            self.errors["ids"] = self.error_class(["The selection is not valid; reload the page and try again."])


class MergeForm(forms.Form):
    other = forms.IntegerField(error_messages={"required": "Choose the other person.", "invalid": "Choose a person."})
    keep = forms.ChoiceField(choices=[("this", "this"), ("other", "other")], initial="this")
