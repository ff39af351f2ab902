import zoneinfo

from django import forms

from rapport.candidates.models import Channel
from rapport.portal.services import PORTAL_MESSAGE_MAX_CHARS

# The languages the team writes in; the person's choice is stored on their record (`Candidate.language`).
LANGUAGE_CHOICES = [
    ("", "No preference"),
    ("en", "English"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("fr", "Français"),
    ("it", "Italiano"),
    ("nl", "Nederlands"),
    ("pt", "Português"),
]
# Phone calls are not something a person opts into here: they choose how we write to them.
WRITTEN_CHANNELS = [(value, label) for value, label in Channel.choices if value != Channel.PHONE]


class SignInForm(forms.Form):
    email = forms.CharField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"class": "input", "autocomplete": "email", "inputmode": "email"}),
        error_messages={"required": "Enter the email address you applied with."},
    )


class MessageForm(forms.Form):
    text = forms.CharField(
        label="Your message",
        max_length=PORTAL_MESSAGE_MAX_CHARS,
        widget=forms.Textarea(attrs={"class": "textarea", "rows": 4}),
        error_messages={
            "required": "Write a message first.",
            "max_length": f"Keep the message under {PORTAL_MESSAGE_MAX_CHARS} characters.",
        },
    )


class PreferencesForm(forms.Form):
    preferred_channel = forms.ChoiceField(
        label="How should we contact you?", choices=WRITTEN_CHANNELS, widget=forms.Select(attrs={"class": "select"})
    )
    language = forms.ChoiceField(
        label="Language", choices=LANGUAGE_CHOICES, required=False, widget=forms.Select(attrs={"class": "select"})
    )
    email = forms.BooleanField(label="Email", required=False)
    sms = forms.BooleanField(label="Text messages (SMS)", required=False)
    whatsapp = forms.BooleanField(label="WhatsApp", required=False)


def _zone_choices() -> list[tuple[str, str]]:
    return [("", "Not set"), *((name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones()))]


class AlertsAndQuietHoursMixin(forms.Form):
    """The second half of the preferences page: time zone, quiet hours and job-alert interests."""

    timezone = forms.ChoiceField(label="Your time zone", required=False, widget=forms.Select(attrs={"class": "select"}))
    quiet_hours_start = forms.TimeField(
        label="Quiet hours start",
        required=False,
        widget=forms.TimeInput(attrs={"class": "input", "type": "time"}, format="%H:%M"),
        error_messages={"invalid": "Give a time like 21:00."},
    )
    quiet_hours_end = forms.TimeField(
        label="Quiet hours end",
        required=False,
        widget=forms.TimeInput(attrs={"class": "input", "type": "time"}, format="%H:%M"),
        error_messages={"invalid": "Give a time like 08:00."},
    )
    departments = forms.MultipleChoiceField(label="Teams", required=False, widget=forms.CheckboxSelectMultiple)
    locations = forms.MultipleChoiceField(label="Locations", required=False, widget=forms.CheckboxSelectMultiple)
    max_per_week = forms.TypedChoiceField(
        label="How often may we write?",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "As often as there is news"), ("3", "At most 3 a week"), ("1", "At most once a week")],
        help_text="Counts newsletters and automatic messages; replies to you and interview details always come.",
        widget=forms.Select(attrs={"class": "select"}),
    )
    birthday_greetings = forms.BooleanField(
        label="Send me a greeting on my birthday",
        required=False,
        help_text="Only if we know your birthday. Untick it at any time.",
    )
    keywords = forms.CharField(
        label="Keywords",
        required=False,
        max_length=500,
        help_text="Separated by commas, for example: Python, data, part-time.",
        widget=forms.TextInput(attrs={"class": "input"}),
    )

    def set_interest_choices(self, *, departments: list[str], locations: list[str]) -> None:
        # Submitted values are kept as choices so the service, which knows the current list, names the field.
        for name, options in (("departments", departments), ("locations", locations)):
            submitted = self.data.getlist(name) if hasattr(self.data, "getlist") else []
            self.fields[name].choices = [(c, c) for c in dict.fromkeys([*options, *submitted])]
        zones = _zone_choices()
        current = self.data.get("timezone") if self.is_bound else self.initial.get("timezone")
        if current and current not in dict(zones):
            zones.append((current, current))
        self.fields["timezone"].choices = zones


class FullPreferencesForm(PreferencesForm, AlertsAndQuietHoursMixin):
    pass


class DocumentUploadForm(forms.Form):
    file = forms.FileField(
        label="Choose a file",
        help_text="PDF, Word (.docx), JPEG or PNG, up to 10 MB.",
        widget=forms.FileInput(attrs={"class": "input", "accept": ".pdf,.docx,.jpg,.jpeg,.png"}),
        error_messages={"required": "Choose a file to upload.", "empty": "The file is empty."},
    )


class DocumentRequestForm(forms.Form):
    """The team asks a person for a document (on the profile page)."""

    name = forms.CharField(
        label="Document",
        max_length=120,
        widget=forms.TextInput(attrs={"class": "input", "placeholder": "Work permit"}),
        error_messages={"required": "Name the document, for example “Work permit”."},
    )
    instructions = forms.CharField(
        label="Instructions",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"class": "textarea", "rows": 3}),
    )
    due_on = forms.DateField(
        label="Due by",
        required=False,
        widget=forms.DateInput(attrs={"class": "input", "type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Give the date as YYYY-MM-DD."},
    )
    application_id = forms.ChoiceField(
        label="For the application", required=False, widget=forms.Select(attrs={"class": "select"})
    )

    def __init__(self, *args, applications: list, **kwargs):
        kwargs.setdefault("auto_id", "docreq_%s")
        super().__init__(*args, **kwargs)
        self.fields["application_id"].choices = [("", "None in particular")] + [
            (str(a.pk), a.job.title) for a in applications
        ]


class FeedbackForm(forms.Form):
    """The team shares feedback with a person on one application (on the profile page)."""

    application_id = forms.ChoiceField(label="Application", widget=forms.Select(attrs={"class": "select"}))
    text = forms.CharField(
        label="Feedback for the candidate",
        max_length=5000,
        widget=forms.Textarea(attrs={"class": "textarea", "rows": 4}),
        help_text="The candidate reads this in their portal. Internal notes stay internal.",
        error_messages={"required": "Write the feedback the candidate will read."},
    )
    share = forms.BooleanField(
        label="Share with candidate",
        required=False,
    )

    def __init__(self, *args, applications: list, **kwargs):
        kwargs.setdefault("auto_id", "feedback_%s")
        super().__init__(*args, **kwargs)
        self.fields["application_id"].choices = [(str(a.pk), a.job.title) for a in applications]
