import uuid

from django import template

register = template.Library()


@register.simple_tag
def new_idempotency_key() -> str:
    """A fresh key per rendered form: a double-click or a resubmitted page then sends the message once."""
    return uuid.uuid4().hex
