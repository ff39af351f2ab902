"""Forms for talent pools and segments; the services own the rules."""

from typing import Any

from django import forms
from django.db.models import QuerySet

from rapport.accounts.models import User
from rapport.candidates.models import RelationshipStatus, TalentPool
from rapport.common.forms import StyledFormMixin
from rapport.jobs.models import Job, JobStatus, Stage


class PoolForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        max_length=120,
        error_messages={"required": "Give the pool a name.", "max_length": "Use at most 120 characters."},
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)


class PoolAddMembersForm(StyledFormMixin, forms.Form):
    candidate_ids = forms.TypedMultipleChoiceField(
        coerce=int,
        error_messages={"required": "Tick at least one person to add."},
    )
    reason = forms.CharField(
        max_length=300,
        required=False,
        help_text="Why they belong here, e.g. “Strong final-round candidate, 2025”.",
        error_messages={"max_length": "Keep the reason under 300 characters."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any whole number is accepted here; the service checks each id exists and names the first unknown one.
        raw = self.data.getlist("candidate_ids") if hasattr(self.data, "getlist") else []
        self.fields["candidate_ids"].choices = [(v, v) for v in raw if str(v).isdigit()]
        self.fields["candidate_ids"].error_messages["invalid_choice"] = "Choose people from the search results."


class DateInput(forms.DateInput):
    input_type = "date"


class SegmentForm(StyledFormMixin, forms.Form):
    """A segment's name and description, plus the candidate-list filters that define it."""

    name = forms.CharField(
        max_length=120,
        error_messages={"required": "Give the segment a name.", "max_length": "Use at most 120 characters."},
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
        help_text="For a persona: who these people are and how to approach them.",
    )
    is_persona = forms.BooleanField(label="This segment is a persona", required=False)

    q = forms.CharField(label="Search text", max_length=500, required=False)
    tag = forms.CharField(max_length=50, required=False)
    pool = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    job = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    stage = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    status = forms.ChoiceField(
        label="Relationship status", choices=[("", "Any status"), *RelationshipStatus.choices], required=False
    )
    source = forms.CharField(max_length=50, required=False)
    owner = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    country = forms.CharField(max_length=2, required=False, help_text="Two letters, e.g. GB.")
    city = forms.CharField(max_length=100, required=False)
    created_after = forms.DateField(required=False, widget=DateInput, label="Added on or after")
    created_before = forms.DateField(required=False, widget=DateInput, label="Added before")
    updated_since = forms.DateField(required=False, widget=DateInput, label="Updated since")

    FILTER_FIELDS = (
        "q",
        "tag",
        "pool",
        "job",
        "stage",
        "status",
        "source",
        "owner",
        "country",
        "city",
        "created_after",
        "created_before",
        "updated_since",
    )

    def __init__(
        self, *args: Any, pools: QuerySet[TalentPool], jobs: QuerySet[Job], owners: QuerySet[User], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        invalid = "Choose one of the options."
        self.fields["pool"].choices = [("", "Any pool"), *[(p.pk, p.name) for p in pools]]
        job_list = list(jobs.order_by("title").only("id", "title", "status"))
        self.fields["job"].choices = [("", "Any job"), *[(j.pk, j.title) for j in job_list]]
        # Stages of jobs still hiring, plus whichever stage a prefilled link names.
        wanted_stage = self._raw("stage")
        hiring = {j.pk for j in job_list if j.status in (JobStatus.OPEN, JobStatus.ON_HOLD, JobStatus.DRAFT)}
        stages = Stage.objects.filter(job_id__in=[j.pk for j in job_list]).select_related("job")
        stage_choices: dict[str, list[tuple[int, str]]] = {}
        for stage in stages.order_by("job__title", "job_id", "position"):
            if stage.job_id in hiring or str(stage.pk) == wanted_stage:
                stage_choices.setdefault(stage.job.title, []).append((stage.pk, stage.name))
        self.fields["stage"].choices = [("", "Any stage"), *stage_choices.items()]
        self.fields["owner"].choices = [("", "Anyone"), *[(u.pk, u.name or u.email) for u in owners]]
        for name in ("pool", "job", "stage", "owner"):
            self.fields[name].error_messages["invalid_choice"] = invalid

    def _raw(self, name: str) -> str:
        source = self.data if self.is_bound else self.initial
        value = source.get(name) if source else None
        return str(value) if value not in (None, "") else ""

    def filters(self) -> dict[str, Any]:
        """The non-empty filters, in the shape candidate_list and segment_create take."""
        out: dict[str, Any] = {}
        for name in self.FILTER_FIELDS:
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            out[name] = value.isoformat() if hasattr(value, "isoformat") else value
        if "country" in out:
            out["country"] = str(out["country"]).upper()
        return out
