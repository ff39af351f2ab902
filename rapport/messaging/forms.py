"""The template form: it parses and renders; the service checks merge fields and puts errors next to the fields."""

import re
from typing import Any

from django import forms
from django.http import QueryDict

from rapport.common.forms import QuickSelect, StyledFormMixin
from rapport.jobs.models import StageTemplate
from rapport.messaging.models import MessageTemplate, TemplateCategory, TemplateChannel

MAX_VARIANT_ROWS = 6
WHATSAPP_VARIABLE_LINE = re.compile(r"(?:\{\{\s*)?(?P<number>\d+)(?:\s*\}\})?\s*[=:]\s*(?P<field>\S.*)")


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: StageTemplate) -> str:
        return obj.name


class TemplateForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        max_length=120, error_messages={"required": "Give the template a name your team will recognise."}
    )
    channel = forms.ChoiceField(choices=TemplateChannel.choices, initial=TemplateChannel.EMAIL)
    category = forms.ChoiceField(choices=TemplateCategory.choices, initial=TemplateCategory.GENERAL)
    language = forms.CharField(
        max_length=10,
        required=False,
        help_text="The language of the text below, such as en. People whose language has a variant get the variant.",
    )
    subject = forms.CharField(
        max_length=300, required=False, help_text="Required for email; SMS and WhatsApp have none."
    )
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "true"}),
        error_messages={"required": "Write the message."},
        help_text="Markdown for email (**bold**, [link](https://…)); plain text for SMS and WhatsApp.",
    )
    whatsapp_content_sid = forms.CharField(
        label="Approved WhatsApp template (Content SID)",
        max_length=34,
        required=False,
        help_text="HX followed by 32 characters, from Twilio's Content Template Builder. More than 24 hours after "
        "the person last wrote on WhatsApp, this approved template is sent instead of the text above.",
    )
    whatsapp_variables = forms.CharField(
        label="Its variables",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="One per line: the variable's number in the approved template and the merge field that fills "
        "it, such as 1 = candidate.first_name.",
    )
    stage_template = StageChoiceField(
        label="Suggest when someone enters",
        queryset=StageTemplate.objects.none(),
        required=False,
        empty_label="No stage",
        help_text="A stage of the organisation pipeline; new jobs suggest this template at that stage.",
    )

    def __init__(self, *args: Any, variant_rows: int = 1, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["stage_template"].queryset = StageTemplate.objects.order_by("position", "id")
        self.variant_rows = max(1, min(variant_rows, MAX_VARIANT_ROWS))
        for i in range(self.variant_rows):
            self.fields[f"variant_{i}_language"] = forms.CharField(label="Language", max_length=10, required=False)
            self.fields[f"variant_{i}_subject"] = forms.CharField(label="Subject", max_length=300, required=False)
            self.fields[f"variant_{i}_body"] = forms.CharField(
                label="Message", widget=forms.Textarea(attrs={"rows": 6}), required=False
            )
        self.style_widgets()

    @staticmethod
    def rows_in(data: QueryDict) -> int:
        try:
            return int(data.get("variant_rows", 1))
        except ValueError:
            return 1

    @classmethod
    def initial_for(cls, template: MessageTemplate) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": template.name,
            "channel": template.channel,
            "category": template.category,
            "language": template.language,
            "subject": template.subject,
            "body": template.body,
            "stage_template": template.stage_templates.order_by("position").first(),
        }
        initial["whatsapp_content_sid"] = template.whatsapp_content_sid
        initial["whatsapp_variables"] = "\n".join(
            f"{number} = {field}" for number, field in (template.whatsapp_variables or {}).items()
        )
        for i, variant in enumerate(template.variants or []):
            initial[f"variant_{i}_language"] = variant.get("language", "")
            initial[f"variant_{i}_subject"] = variant.get("subject", "")
            initial[f"variant_{i}_body"] = variant.get("body", "")
        return initial

    def clean_whatsapp_variables(self) -> dict[str, str]:
        """`1 = candidate.first_name` per line → {"1": "candidate.first_name"}; the service checks the fields."""
        variables: dict[str, str] = {}
        for line in self.cleaned_data.get("whatsapp_variables", "").splitlines():
            if not line.strip():
                continue
            match = WHATSAPP_VARIABLE_LINE.fullmatch(line.strip())
            if match is None:
                raise forms.ValidationError(
                    f"Write each variable as its number and a merge field, such as 1 = candidate.first_name "
                    f"(not “{line.strip()[:40]}”)."
                )
            if match["number"] in variables:
                raise forms.ValidationError(f"Variable {match['number']} is given twice.")
            variables[match["number"]] = match["field"].strip()
        return variables

    def whatsapp_chosen(self) -> bool:
        """Whether the form is for a WhatsApp template (as posted, or as it was)."""
        value = self.data.get(self.add_prefix("channel")) if self.is_bound else self.initial.get("channel")
        return value == TemplateChannel.WHATSAPP

    def variant_groups(self) -> list[dict[str, Any]]:
        """The variant rows for the template: each with its three bound fields."""
        return [
            {
                "index": i,
                "language": self[f"variant_{i}_language"],
                "subject": self[f"variant_{i}_subject"],
                "body": self[f"variant_{i}_body"],
            }
            for i in range(self.variant_rows)
        ]

    def service_data(self) -> dict[str, Any]:
        data = {
            name: self.cleaned_data[name] for name in ("name", "channel", "category", "language", "subject", "body")
        }
        variants = []
        for i in range(self.variant_rows):
            row = {part: self.cleaned_data.get(f"variant_{i}_{part}", "") for part in ("language", "subject", "body")}
            if any(value.strip() for value in row.values()):
                variants.append(row)
        data["variants"] = variants
        # Shown only for WhatsApp: for another channel the (hidden) fields must not leave a stale Content SID.
        whatsapp = data["channel"] == TemplateChannel.WHATSAPP
        data["whatsapp_content_sid"] = self.cleaned_data.get("whatsapp_content_sid", "") if whatsapp else ""
        data["whatsapp_variables"] = (self.cleaned_data.get("whatsapp_variables") or {}) if whatsapp else {}
        return data

    def variant_field_map(self) -> dict[str, str]:
        """Service error names (variants.fr.body) → the form field of that row."""
        mapping = {
            f"whatsapp_variables.{n}": "whatsapp_variables" for n in self.cleaned_data.get("whatsapp_variables") or {}
        }
        for i in range(self.variant_rows):
            language = (self.cleaned_data.get(f"variant_{i}_language") or "").strip().lower().replace("_", "-")
            for part in ("language", "subject", "body"):
                mapping[f"variants.{i}.{part}"] = f"variant_{i}_{part}"
                if language:
                    mapping[f"variants.{language}.{part}"] = f"variant_{i}_{part}"
        return mapping


class ComposeForm(StyledFormMixin, forms.Form):
    """One message to one person: by email, SMS or WhatsApp, from a template (optional), and when to send it."""

    channel = forms.ChoiceField(choices=TemplateChannel.choices, initial=TemplateChannel.EMAIL, label="Send by")
    template = forms.ModelChoiceField(
        queryset=MessageTemplate.objects.none(), required=False, empty_label="No template", label="Template"
    )
    job = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="No job", label="About the job", widget=QuickSelect
    )
    subject = forms.CharField(max_length=300, required=False, label="Subject")
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "true", "maxlength": 20000}),
        max_length=20000,
        required=False,
        # Kept as typed, so the line numbers in error messages match the lines the sender sees.
        strip=False,
        label="Message",
        help_text="Markdown, with merge fields such as {{ candidate.first_name }}.",
    )
    TEXT_HELP = "Plain text, at most 1,600 characters, with merge fields such as {{ candidate.first_name }}."
    send_at = forms.DateTimeField(
        required=False,
        label="Send at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"invalid": "Enter a date and time."},
    )

    def __init__(self, *args: Any, templates: Any, jobs: Any, timezone_name: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates
        self.fields["job"].queryset = jobs
        self.fields["send_at"].help_text = f"In {timezone_name} time. Leave empty and use “Send now” to send at once."
        if self.is_text:
            self.fields["body"].help_text = self.TEXT_HELP

    @property
    def chosen_channel(self) -> str:
        """The channel chosen (or offered first): SMS and WhatsApp have no subject and plain-text bodies."""
        value = self.data.get(self.add_prefix("channel")) if self.is_bound else self.initial.get("channel")
        return value if value in TemplateChannel.values else TemplateChannel.EMAIL

    @property
    def is_text(self) -> bool:
        return self.chosen_channel != TemplateChannel.EMAIL


class BulkForm(StyledFormMixin, forms.Form):
    """A template for many people, with an optional job for `job.*` and each person's application to it."""

    template = forms.ModelChoiceField(
        queryset=MessageTemplate.objects.none(), empty_label="Choose a template…", label="Template"
    )
    job = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="No job", label="About the job", widget=QuickSelect
    )

    def __init__(self, *args: Any, templates: Any, jobs: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates
        self.fields["template"].label_from_instance = lambda t: (
            t.name if t.channel == "email" else f"{t.name} ({t.get_channel_display()})"
        )
        self.fields["job"].queryset = jobs
        self.fields["template"].error_messages["required"] = "Pick the template to send."
