"""Forms for jobs, their stages, the kanban dialogs and the admin settings.

Forms parse and render; the services own the rules, and their field errors are put back next to the fields.
"""

from typing import Any

from django import forms

from rapport.accounts.models import Role, User
from rapport.candidates.models import CustomFieldType
from rapport.common.forms import StyledFormMixin
from rapport.jobs.models import EmploymentType, Job, JobStatus, StageCategory, WorkplaceType
from rapport.jobs.selectors import clients_list

# Service field names → form field names, so service errors land next to the right input.
JOB_FIELD_MAP = {"hiring_manager_id": "hiring_manager", "recruiter_id": "recruiter", "client_id": "client"}


class TeamMemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.name or obj.email} ({obj.get_role_display()})"


class DateInput(forms.DateInput):
    input_type = "date"


class JobForm(StyledFormMixin, forms.Form):
    title = forms.CharField(max_length=150, error_messages={"required": "A job needs a title."})
    status = forms.ChoiceField(choices=JobStatus.choices, initial=JobStatus.DRAFT)
    department = forms.CharField(max_length=100, required=False)
    location = forms.CharField(max_length=150, required=False, help_text="City or region; leave empty when remote.")
    workplace_type = forms.ChoiceField(label="Workplace", choices=WorkplaceType.choices, initial=WorkplaceType.ONSITE)
    employment_type = forms.ChoiceField(
        label="Employment type", choices=EmploymentType.choices, initial=EmploymentType.FULL_TIME
    )
    openings = forms.IntegerField(
        min_value=1,
        max_value=1000,
        initial=1,
        error_messages={
            "invalid": "Give a number of openings from 1 to 1000.",
            "min_value": "Give a number of openings from 1 to 1000.",
            "max_value": "Give a number of openings from 1 to 1000.",
            "required": "Give a number of openings from 1 to 1000.",
        },
    )
    hiring_manager = TeamMemberChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="No hiring manager",
        error_messages={"invalid_choice": "Choose an active team member."},
    )
    recruiter = TeamMemberChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="No recruiter",
        error_messages={"invalid_choice": "Choose an admin or a recruiter."},
    )
    client = forms.ModelChoiceField(
        queryset=clients_list(),
        required=False,
        empty_label="No client (in-house)",
        error_messages={"invalid_choice": "Choose one of the clients."},
    )
    new_client = forms.CharField(
        label="Or add a new client",
        max_length=150,
        required=False,
        help_text="For agencies: the new client is created with the job.",
    )
    opened_on = forms.DateField(
        label="Opened on", required=False, widget=DateInput, error_messages={"invalid": "Use a date like 2026-01-31."}
    )
    closed_on = forms.DateField(
        label="Closed on", required=False, widget=DateInput, error_messages={"invalid": "Use a date like 2026-01-31."}
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), max_length=20_000, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        active = User.objects.filter(is_active=True).order_by("name")
        self.fields["hiring_manager"].queryset = active
        self.fields["recruiter"].queryset = active.filter(role__in=[Role.ADMIN, Role.RECRUITER])
        self.fields["client"].queryset = clients_list()

    @classmethod
    def initial_for(cls, job: Job) -> dict[str, Any]:
        return {
            "title": job.title,
            "status": job.status,
            "department": job.department,
            "location": job.location,
            "workplace_type": job.workplace_type,
            "employment_type": job.employment_type,
            "openings": job.openings,
            "hiring_manager": job.hiring_manager_id,
            "recruiter": job.recruiter_id,
            "client": job.client_id,
            "opened_on": job.opened_on,
            "closed_on": job.closed_on,
            "description": job.description,
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        opened, closed = cleaned.get("opened_on"), cleaned.get("closed_on")
        if opened and closed and closed < opened:
            self.add_error("closed_on", "The closing date cannot be before the opening date.")
        if cleaned.get("client") and (cleaned.get("new_client") or "").strip():
            self.add_error("new_client", "Choose an existing client or name a new one, not both.")
        return cleaned

    def service_data(self, *, client_id: int | None = None) -> dict[str, Any]:
        """The cleaned values in the shape job_create / job_update take."""
        data = self.cleaned_data
        client = data.get("client")
        return {
            "title": data["title"],
            "status": data["status"],
            "department": data.get("department", ""),
            "location": data.get("location", ""),
            "workplace_type": data["workplace_type"],
            "employment_type": data["employment_type"],
            "openings": data["openings"],
            "hiring_manager_id": data["hiring_manager"].pk if data.get("hiring_manager") else None,
            "recruiter_id": data["recruiter"].pk if data.get("recruiter") else None,
            "client_id": client_id if client_id is not None else (client.pk if client else None),
            "opened_on": data.get("opened_on"),
            "closed_on": data.get("closed_on"),
            "description": data.get("description", ""),
        }


class StageForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        max_length=60,
        error_messages={
            "required": "A stage name has 1 to 60 characters.",
            "max_length": "A stage name has 1 to 60 characters.",
        },
    )
    category = forms.ChoiceField(
        choices=StageCategory.choices,
        help_text="Decides the column colour and what counts as hired.",
        error_messages={"invalid_choice": "Choose one of the categories."},
    )


class StageRenameForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        max_length=60,
        widget=forms.TextInput(attrs={"class": "input--sm"}),
        error_messages={
            "required": "A stage name has 1 to 60 characters.",
            "max_length": "A stage name has 1 to 60 characters.",
        },
    )


class RejectForm(StyledFormMixin, forms.Form):
    reason = forms.TypedChoiceField(
        label="Reason",
        coerce=int,
        choices=(),
        error_messages={
            "required": "Choose why this application is rejected.",
            "invalid_choice": "Choose one of the organisation's rejection reasons.",
        },
    )
    note = forms.CharField(
        label="Note (internal)",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
        error_messages={"max_length": "Keep the note under 5,000 characters."},
    )
    notify = forms.BooleanField(label="Email the candidate", required=False)
    template = forms.TypedChoiceField(label="Email", coerce=int, choices=(), required=False, empty_value=None)

    def __init__(self, *args: Any, reasons: Any = (), templates: Any = None, **kwargs: Any) -> None:
        """`templates`: the rejection emails the user may send; None when their role cannot email candidates."""
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", "Choose a reason…")] + [(r.pk, r.name) for r in reasons]
        if templates is None:
            del self.fields["notify"], self.fields["template"]
        else:
            self.fields["template"].choices = [(t.pk, t.name) for t in templates]


class WithdrawForm(StyledFormMixin, forms.Form):
    note = forms.CharField(
        label="Note (internal)",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
        error_messages={"max_length": "Keep the note under 5,000 characters."},
    )


class RejectionReasonForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        label="New reason",
        max_length=100,
        error_messages={
            "required": "A reason has 1 to 100 characters.",
            "max_length": "A reason has 1 to 100 characters.",
        },
    )


class CustomFieldForm(StyledFormMixin, forms.Form):
    label = forms.CharField(
        max_length=100,
        error_messages={
            "required": "A label has 1 to 100 characters.",
            "max_length": "A label has 1 to 100 characters.",
        },
    )
    field_type = forms.ChoiceField(label="Type", choices=CustomFieldType.choices, initial=CustomFieldType.TEXT)
    key = forms.CharField(
        max_length=50,
        required=False,
        help_text="Used by the API and CSV import; made from the label when left empty.",
    )
    choices = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="For a choice field: one choice per line.",
    )

    def choice_list(self) -> list[str]:
        return [line.strip() for line in (self.cleaned_data.get("choices") or "").splitlines() if line.strip()]
