"""The inline reply at the bottom of a conversation: the text, and for email a subject."""

from typing import Any

from django import forms

from rapport.common.forms import StyledFormMixin
from rapport.messaging.models import TemplateChannel

MAX_REPLY = 20_000


class ReplyForm(StyledFormMixin, forms.Form):
    channel = forms.ChoiceField(choices=TemplateChannel.choices, widget=forms.HiddenInput)
    subject = forms.CharField(max_length=300, required=False, label="Subject")
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "true", "maxlength": MAX_REPLY}),
        max_length=MAX_REPLY,
        strip=False,
        label="Reply",
        error_messages={"required": "Write your reply."},
    )

    def __init__(self, *args: Any, channel: str, **kwargs: Any):
        # Its own ids: the profile also shows the compose panel, whose fields have the same names.
        kwargs.setdefault("auto_id", "reply_%s")
        super().__init__(*args, **kwargs)
        self.fields["channel"].initial = channel
        if channel != TemplateChannel.EMAIL:
            # Text messages have no subject line.
            self.fields["subject"].widget = forms.HiddenInput()
        self.fields["body"].help_text = "Ctrl+Enter or ⌘+Enter sends."
        self.style_widgets()

    def _mark_invalid(self, name: str | None) -> None:
        super()._mark_invalid(name)
        if name in self.fields:
            self.fields[name].widget.attrs["aria-describedby"] = f"{self[name].auto_id}_error"

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        if not body.strip():
            raise forms.ValidationError("Write your reply.")
        return body
