"""Template helpers for conversations and the inbox: status chips, channel icons, the sidebar's unread count."""

import re

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from rapport.common.templatetags.rapport_tags import icon
from rapport.messaging.models import Message, TemplateChannel

register = template.Library()

_CHANNEL_ICONS = {TemplateChannel.EMAIL: "mail", TemplateChannel.SMS: "message", TemplateChannel.WHATSAPP: "phone"}


@register.simple_tag
def channel_icon(channel: str) -> SafeString:
    """The channel's icon and its name (text, so it is not told by the icon alone)."""
    label = dict(TemplateChannel.choices).get(channel, channel)
    return format_html(
        '<span class="channel channel--{}">{}<span>{}</span></span>',
        channel,
        icon(_CHANNEL_ICONS.get(channel, "message"), "icon icon--sm"),
        label,
    )


@register.simple_tag
def message_chip(message: Message) -> SafeString:
    """A message's status chip (opened and clicked show over sent), with the failure reason beside it."""
    from rapport.messaging.selectors_thread import message_chip as chip

    key, label, tone = chip(message)
    badge = format_html('<span class="badge badge--{}" data-message-status="{}">{}</span>', tone, key, label)
    reason = message.last_error if key in ("failed", "bounced", "suppressed") else message.deferred_reason
    if reason and key not in ("sent", "delivered", "opened", "clicked", "received"):
        return format_html('{} <span class="text-xs muted" data-message-error>{}</span>', badge, reason)
    return badge


@register.simple_tag(takes_context=True)
def inbox_unread_count(context: template.Context) -> int:
    """Unread replies in the signed-in user's inbox, for the sidebar; 0 for roles without an inbox."""
    from rapport.messaging.selectors_inbox import inbox_unread_count as count

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return count(user=user)


@register.filter
def message_snippet(text: str) -> str:
    """The first words of a message on one line, as the inbox and notifications show them."""
    from rapport.messaging.services_inbound import snippet

    return snippet(text or "")


_SIGNATURE = re.compile(r"^--\s?$")
_QUOTE_START = re.compile(r"^(>|On .{4,200} wrote:\s*$)")


@register.filter
def message_parts(text: str) -> tuple[str, str]:
    """(what was written, what follows): the signature and footer of ours, or the quoted history in a reply.

    The thread shows the first part and folds the second away, so a long conversation reads as a conversation.
    """
    lines = (text or "").splitlines()
    for index, line in enumerate(lines):
        if index and (_SIGNATURE.match(line) or _QUOTE_START.match(line)):
            return "\n".join(lines[:index]).rstrip(), "\n".join(lines[index:])
    return (text or "").rstrip(), ""


@register.filter
def clean_html(html: str) -> SafeString:
    """HTML from a message, sanitised again as it is shown (it was on receipt; this keeps the page safe regardless)."""
    from django.utils.safestring import mark_safe

    from rapport.common.html import sanitize_html

    return mark_safe(sanitize_html(html or ""))  # noqa: S308 - sanitised by nh3 just above
