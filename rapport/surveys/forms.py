"""Forms for surveys: the survey editor (questions written one per line), sending by hand, and the answer page."""

from typing import Any

from django import forms

from rapport.common.forms import StyledFormMixin
from rapport.surveys.models import DEFAULT_COOLDOWN_DAYS, QuestionKind, Survey, SurveyMoment, SurveyQuestion

QUESTIONS_HELP = (
    "One question per line, starting with its kind: csat (1–5), nps (0–10), text or choice. Add ? after the kind "
    "for an optional question. Choice options follow the question, separated by |. For example: "
    "“csat: How was your interview?” or “choice?: How did you hear about us? | Website | A friend”."
)


def questions_to_text(questions: list[SurveyQuestion]) -> str:
    lines = []
    for q in questions:
        options = "".join(f" | {choice}" for choice in q.choices)
        lines.append(f"{q.kind}{'' if q.required else '?'}: {q.text}{options}")
    return "\n".join(lines)


def questions_from_text(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The question list the service takes, and an error per line that cannot be read."""
    questions, errors = [], []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        head, sep, rest = line.partition(":")
        kind = head.strip().lower()
        required = not kind.endswith("?")
        kind = kind.rstrip("?").strip()
        if not sep or kind not in QuestionKind.values:
            errors.append(f"Line {number}: start with csat:, nps:, text: or choice:.")
            continue
        parts = [part.strip() for part in rest.split("|")]
        choices = [part for part in parts[1:] if part] if kind == QuestionKind.CHOICE else []
        text_part = parts[0] if kind == QuestionKind.CHOICE else rest.strip()
        questions.append({"kind": kind, "text": text_part, "required": required, "choices": choices})
    return questions, errors


class SurveyForm(StyledFormMixin, forms.Form):
    name = forms.CharField(max_length=120)
    intro = forms.CharField(
        label="Introduction",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown above the questions and in the email.",
    )
    moment = forms.ChoiceField(label="Sent", choices=SurveyMoment.choices)
    questions = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), help_text=QUESTIONS_HELP)
    anonymous = forms.BooleanField(
        required=False, label="Anonymous: store answers without the person's name (the timeline only notes an answer)"
    )
    cooldown_days = forms.IntegerField(
        label="Cool-down in days",
        min_value=0,
        max_value=730,
        initial=DEFAULT_COOLDOWN_DAYS,
        help_text="Nobody gets this survey if they got any survey in this many days.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active (can be sent)")

    @classmethod
    def for_survey(cls, survey: Survey, data: Any = None) -> "SurveyForm":
        initial = {
            "name": survey.name,
            "intro": survey.intro,
            "moment": survey.moment,
            "questions": questions_to_text(list(survey.questions.order_by("position", "id"))),
            "anonymous": survey.anonymous,
            "cooldown_days": survey.cooldown_days,
            "is_active": survey.is_active,
        }
        return cls(data, initial=initial)

    def service_data(self) -> dict[str, Any] | None:
        """The data for the service, or None after adding the errors of unreadable question lines."""
        questions, errors = questions_from_text(self.cleaned_data["questions"])
        for error in errors:
            self.add_error("questions", error)
        if errors:
            return None
        return {**{k: v for k, v in self.cleaned_data.items() if k != "questions"}, "questions": questions}


class SendForm(StyledFormMixin, forms.Form):
    survey = forms.ChoiceField()
    application = forms.ChoiceField(required=False, label="About the application")

    def __init__(self, *args: Any, surveys: list[Survey], applications: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["survey"].choices = [(s.pk, f"{s.name} ({s.get_moment_display().lower()})") for s in surveys]
        self.fields["application"].choices = [("", "None")] + [
            (a.pk, f"{a.job.title} · {a.stage.name}") for a in applications
        ]


def answer_fields(survey: Survey) -> list[dict[str, Any]]:
    """The answer page's questions, with the options each offers, in order."""
    fields = []
    for q in survey.questions.order_by("position", "id"):
        if q.kind == QuestionKind.CSAT:
            options = [(str(n), str(n)) for n in range(1, 6)]
            scale = ("Very unhappy", "Very happy")
        elif q.kind == QuestionKind.NPS:
            options = [(str(n), str(n)) for n in range(0, 11)]
            scale = ("Not at all likely", "Extremely likely")
        elif q.kind == QuestionKind.CHOICE:
            options = [(c, c) for c in q.choices]
            scale = None
        else:
            options, scale = [], None
        fields.append({"question": q, "name": f"q{q.pk}", "options": options, "scale": scale})
    return fields
