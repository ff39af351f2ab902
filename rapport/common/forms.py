"""Form helpers shared by the workspace pages."""

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

_UNSTYLED = (forms.CheckboxInput, forms.CheckboxSelectMultiple, forms.RadioSelect, forms.HiddenInput)


class StyledFormMixin:
    """Gives every widget the design-system class (input/select/textarea) and marks invalid fields for screen readers."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style_widgets()

    def style_widgets(self) -> None:
        """Safe to call again after adding fields at run time."""
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, _UNSTYLED):
                continue
            if isinstance(widget, forms.Textarea):
                css = "textarea"
            elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
                css = "select"
            else:
                css = "input"
            existing = widget.attrs.get("class", "")
            if css not in existing.split():
                widget.attrs["class"] = f"{css} {existing}".strip()

    def _mark_invalid(self, name: str | None) -> None:
        field = self.fields.get(name) if name else None  # type: ignore[attr-defined]
        if field is not None:
            field.widget.attrs["aria-invalid"] = "true"
            field.widget.attrs["aria-describedby"] = f"id_{self.add_prefix(name)}_error"  # type: ignore[attr-defined]

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        for name in self._errors or {}:  # type: ignore[attr-defined]
            self._mark_invalid(name)

    def add_error(self, field, error) -> None:
        super().add_error(field, error)  # type: ignore[misc]
        if isinstance(field, str):
            self._mark_invalid(field)


class QuickSelect(forms.Select):
    """A select for long menus (hundreds of jobs): the options are written out directly.

    Django's Select renders a template per option, about 0.1 ms each here, which made a 300-job menu a third of
    the profile page's time. Grouped choices keep the template path.
    """

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None) -> str:
        choices = list(self.choices)
        if any(isinstance(label, list | tuple) for _, label in choices):
            return super().render(name, value, attrs, renderer)
        final_attrs = self.build_attrs(self.attrs, attrs)
        final_attrs["name"] = name
        chosen = set(self.format_value(value))
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option, mark_safe(" selected") if option in chosen else "", label)
                for option, label in ((("" if v is None else str(v)), label) for v, label in choices)
            ),
        )
        return format_html("<select{}>{}</select>", flatatt(final_attrs), options)
