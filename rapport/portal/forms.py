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
