"""Workspace forms for tasks: the quick add at the top of the list and on a profile, and the full edit form."""

from datetime import datetime
from typing import Any

from django import forms

from rapport.accounts.models import User
from rapport.common.forms import QuickSelect, StyledFormMixin

# Service field -> form field, so the service's errors show next to the right input.
FIELD_MAP = {"due_at": "due_date", "owner_id": "owner", "job_id": "job", "candidate_id": "candidate_id"}


class TaskForm(StyledFormMixin, forms.Form):
    title = forms.CharField(
        label="Task",
        max_length=200,
        error_messages={"required": "Say what needs doing.", "max_length": "Keep the title under 200 characters."},
        widget=forms.TextInput(attrs={"placeholder": "e.g. Call Grace about the offer", "autocomplete": "off"}),
    )
    due_date = forms.DateField(
        label="Due",
        required=False,
        error_messages={"invalid": "Use a date like 2026-01-31."},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    due_time = forms.TimeField(
        label="Time",
        required=False,
        error_messages={"invalid": "Use a time like 14:30."},
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    candidate_id = forms.CharField(required=False, widget=forms.HiddenInput)
    owner = forms.TypedChoiceField(label="Owner", coerce=int, required=False, choices=(), widget=QuickSelect)
    job = forms.TypedChoiceField(
        label="Job", coerce=int, required=False, empty_value=None, choices=(), widget=QuickSelect
    )
    notes = forms.CharField(label="Notes", required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, owners: list[User] | None = None, jobs: list[Any] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if owners and len(owners) > 1:
            self.fields["owner"].choices = [(u.pk, u.name or u.email) for u in owners]
        else:
            del self.fields["owner"]
        if jobs is not None:
            self.fields["job"].choices = [("", "No job"), *((j.pk, j.title) for j in jobs)]
        else:
            del self.fields["job"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("due_time") and not cleaned.get("due_date") and "due_date" not in self.errors:
            self.add_error("due_date", "Pick a day for this time.")
        return cleaned

    def service_data(self) -> dict[str, Any]:
        """The cleaned form in the shape task_create and task_update take; only the fields the form shows."""
        data = self.cleaned_data
        out: dict[str, Any] = {"title": data["title"]}
        day, at = data.get("due_date"), data.get("due_time")
        if at and day:
            # A naive time: the service reads it in the organisation's time zone.
            out["due_at"], out["due_date"] = datetime.combine(day, at), None
        else:
            out["due_at"], out["due_date"] = None, day
        if "notes" in self.fields:
            out["notes"] = data.get("notes", "")
        if "owner" in self.fields and data.get("owner"):
            out["owner_id"] = data["owner"]
        if "job" in self.fields:
            out["job_id"] = data.get("job")
        if data.get("candidate_id"):
            out["candidate_id"] = data["candidate_id"]
        return out
