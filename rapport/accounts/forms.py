"""Sign-in, profile and API-token forms."""

from django import forms

from rapport.common.forms import StyledFormMixin


class SignInForm(StyledFormMixin, forms.Form):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        error_messages={"required": "Enter your email address.", "invalid": "Enter a valid email address."},
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        max_length=1024,
        error_messages={"required": "Enter your password."},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_email(self) -> str:
        # Addresses are stored lower-cased; people type them however they like.
        return self.cleaned_data["email"].strip().lower()


class ProfileForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=150,
        error_messages={"required": "Enter the name your team knows you by."},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email_from_name = forms.CharField(
        label="Name on your emails",
        max_length=100,
        required=False,
        help_text="Shown in the From line of email you send to candidates, e.g. “Riley at Acme”.",
    )
    email_reply_to = forms.EmailField(
        label="Reply-to address",
        max_length=254,
        required=False,
        help_text="Where candidates’ replies go. Your sign-in address when blank.",
        error_messages={"invalid": "Enter a valid email address."},
    )


class ApiTokenForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="What will use it, e.g. “Zapier” or “HRIS sync”.",
        error_messages={"required": "Give the token a name so you can recognise it later."},
    )
