from typing import Any

from django import forms

from rapport.common.forms import StyledFormMixin
from rapport.faq.models import FaqEntry


class EntryForm(StyledFormMixin, forms.Form):
    question = forms.CharField(max_length=300)
    answer = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown: **bold**, lists, [links](https://example.org). Required before publishing.",
    )
    job = forms.ChoiceField(required=False, label="Only for the job", help_text="Leave empty for every job.")
    department = forms.CharField(
        required=False, max_length=100, label="Only for the department", help_text="Leave empty for every department."
    )
    published = forms.BooleanField(required=False, label="Published: the assistant may answer with it")

    def __init__(self, *args: Any, jobs: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.jobs = {str(job.pk): job for job in jobs}
        self.fields["job"].choices = [("", "Every job")] + [(str(job.pk), job.title) for job in jobs]

    @classmethod
    def for_entry(cls, entry: FaqEntry, *, jobs: list[Any], data: Any = None) -> "EntryForm":
        initial = {
            "question": entry.question,
            "answer": entry.answer,
            "job": str(entry.job_id or ""),
            "department": entry.department,
            "published": entry.published,
        }
        return cls(data, initial=initial, jobs=jobs)

    def service_data(self) -> dict[str, Any]:
        return {**self.cleaned_data, "job": self.jobs.get(self.cleaned_data.get("job") or "")}


class AskForm(forms.Form):
    question = forms.CharField(
        label="Ask a question", max_length=500, widget=forms.TextInput(attrs={"class": "input", "autocomplete": "off"})
    )
    job = forms.IntegerField(required=False, widget=forms.HiddenInput)


class PassOnForm(forms.Form):
    question = forms.CharField(max_length=500, widget=forms.HiddenInput)
    job = forms.IntegerField(required=False, widget=forms.HiddenInput)
    first_name = forms.CharField(
        required=False,
        max_length=100,
        label="Your first name",
        widget=forms.TextInput(attrs={"class": "input", "autocomplete": "given-name"}),
    )
    email = forms.CharField(
        max_length=254, label="Your email", widget=forms.EmailInput(attrs={"class": "input", "autocomplete": "email"})
    )
    # The honeypot: hidden from people, filled in by bots.
    website = forms.CharField(
        required=False,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    @property
    def is_bot(self) -> bool:
        return bool((self.data.get(self.add_prefix("website")) or "").strip())
