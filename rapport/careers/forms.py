"""The career site's public forms and the team's screening question form.

They only collect input; the services check it by the same rules as everywhere else.
"""

from typing import Any

from django import forms
from django.conf import settings

from rapport.careers.models import QuestionKind
from rapport.careers.services import MAX_ANSWER, MAX_QUESTION, question_field
from rapport.common.forms import StyledFormMixin


class _PublicForm(StyledFormMixin, forms.Form):
    # A field people never see: bots that fill every input give themselves away here.
    website = forms.CharField(required=False, label="Leave this empty", max_length=200)
    consent = forms.BooleanField(required=False)

    # What the consent box says the details are kept for.
    purpose_text = "recruitment"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        days = settings.RAPPORT_PRIVACY_RETENTION_DAYS
        self.fields["consent"].label = (
            f"I agree that {settings.RAPPORT_ORG_NAME} keeps my details for {self.purpose_text} "
            f"for up to {days} days ({round(days / 365, 1):g} years)."
        )
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    @property
    def is_bot(self) -> bool:
        return bool((self.data.get("website") or "").strip())


class ApplyForm(_PublicForm):
    # Where the visitor came from (utm_source/ref), signed by the view so it cannot be forged.
    source = forms.CharField(required=False, widget=forms.HiddenInput, max_length=300)
    first_name = forms.CharField(max_length=100, required=False, label="First name")
    last_name = forms.CharField(max_length=100, required=False, label="Last name")
    email = forms.CharField(max_length=254, required=False, label="Email")
    phone = forms.CharField(max_length=40, required=False, label="Phone")
    resume = forms.FileField(
        required=False,
        label="Résumé",
        help_text=f"PDF or Word (.docx), up to {settings.RAPPORT_MAX_UPLOAD_MB} MB.",
    )
    link_1 = forms.CharField(max_length=500, required=False, label="LinkedIn, portfolio or GitHub")
    link_2 = forms.CharField(max_length=500, required=False, label="Another link")

    purpose_text = "this and future job applications"
    field_order = ["first_name", "last_name", "email", "phone", "resume", "link_1", "link_2", "consent"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.question_names: list[str] = []
        for name in ("first_name", "last_name", "email"):
            self.fields[name].widget.attrs["required"] = True
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        self.fields["email"].widget = forms.EmailInput(attrs={"autocomplete": "email", "required": True})
        self.fields["phone"].widget = forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"})
        self.fields["resume"].widget.attrs.update(
            {
                "accept": ".pdf,.docx,application/pdf,"
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "required": True,
            }
        )
        for name in ("link_1", "link_2"):
            self.fields[name].widget = forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"})
        self.fields["consent"].widget.attrs["required"] = True
        self.style_widgets()

    def add_questions(self, questions: list[Any]) -> None:
        """One field per screening question; the service checks required answers and options."""
        for question in questions:
            name = question_field(question)
            if question.kind == QuestionKind.TEXT:
                field = forms.CharField(required=False, max_length=MAX_ANSWER, widget=forms.Textarea(attrs={"rows": 3}))
            else:
                labels = {"yes": "Yes", "no": "No"}
                field = forms.ChoiceField(
                    required=False,
                    choices=[(option, labels.get(option, option)) for option in question.options],
                    widget=forms.RadioSelect,
                )
            field.label = question.text
            field.required_answer = question.required
            self.fields[name] = field
            self.question_names.append(name)
        self.style_widgets()

    @property
    def question_fields(self) -> list[Any]:
        return [self[name] for name in self.question_names]

    def answers(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name, "") for name in self.question_names}

    def person_data(self) -> dict:
        data = self.cleaned_data
        return {
            "first_name": data.get("first_name", ""),
            "last_name": data.get("last_name", ""),
            "email": data.get("email", ""),
            "phone": data.get("phone", ""),
            "links": [data[name] for name in ("link_1", "link_2") if data.get(name)],
        }


class JoinForm(_PublicForm):
    first_name = forms.CharField(max_length=100, required=False, label="First name")
    last_name = forms.CharField(max_length=100, required=False, label="Last name")
    email = forms.CharField(max_length=254, required=False, label="Email")
    interests = forms.MultipleChoiceField(
        required=False, label="What interests you?", widget=forms.CheckboxSelectMultiple
    )

    purpose_text = "telling me about jobs that may suit me"
    field_order = ["first_name", "last_name", "email", "interests", "consent"]

    def __init__(self, *args, interest_choices: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Any submitted value is accepted here; the service checks it against the current list and names the field.
        submitted = self.data.getlist("interests") if hasattr(self.data, "getlist") else []
        choices = list(dict.fromkeys([*(interest_choices or []), *submitted]))
        self.fields["interests"].choices = [(c, c) for c in choices]
        self.fields["first_name"].widget.attrs.update({"autocomplete": "given-name", "required": True})
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        self.fields["email"].widget = forms.EmailInput(attrs={"autocomplete": "email", "required": True})
        self.fields["consent"].widget.attrs["required"] = True
        self.style_widgets()


class JobQuestionForm(StyledFormMixin, forms.Form):
    """A screening question as the team sets it up; the service checks choices and the knock-out answer."""

    text = forms.CharField(
        label="Question",
        max_length=MAX_QUESTION,
        error_messages={"required": "Write the question."},
        widget=forms.TextInput(attrs={"placeholder": "Can you work in the EU without a visa?"}),
    )
    kind = forms.ChoiceField(label="Answer type", choices=QuestionKind.choices, initial=QuestionKind.YES_NO)
    choices = forms.CharField(
        label="Choices",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For a choice question: one option per line.",
    )
    knockout_answer = forms.CharField(
        label="Knock-out answer",
        required=False,
        max_length=200,
        help_text="For yes/no (“yes” or “no”) or choice (one of the choices): applicants who give it are flagged.",
    )
    required = forms.BooleanField(label="Applicants must answer", required=False)

    @classmethod
    def for_question(cls, question: Any, **kwargs: Any) -> "JobQuestionForm":
        return cls(
            initial={
                "text": question.text,
                "kind": question.kind,
                "choices": "\n".join(question.choices or []),
                "knockout_answer": question.knockout_answer,
                "required": question.required,
            },
            **kwargs,
        )
