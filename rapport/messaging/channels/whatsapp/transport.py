"""WhatsApp out through Twilio: the SMS transport with the WhatsApp sender number and `whatsapp:` addresses.

WhatsApp lets a business write free-form text only within 24 hours of the person's last WhatsApp message. Inside
that window the message's text is sent as it is; outside it, the message's template is sent as its approved
WhatsApp template (ContentSid, with ContentVariables filled in for the person), and a message with no approved
template fails at once with that reason rather than waiting for Twilio's error 63016. The message keeps its
rendered text either way, so the thread shows what was said.
"""

import threading

from django.conf import settings
from django.db import connections
from django.utils import timezone

from rapport.messaging.channels.base import PermanentError
from rapport.messaging.channels.sms.transport import TwilioTransport
from rapport.messaging.channels.whatsapp.content import (
    NO_APPROVED_TEMPLATE,
    NO_TEMPLATE,
    content_variables,
    within_window,
)
from rapport.messaging.models import Message


class WhatsAppTransport(TwilioTransport):
    label = "WhatsApp"
    prefix = "whatsapp:"
    sender_hint = "TWILIO_WHATSAPP_FROM"

    def sender(self) -> dict[str, str]:
        return {"from_": settings.TWILIO_WHATSAPP_FROM}

    def content(self, message: Message) -> dict[str, str]:
        try:
            if within_window(message, now=timezone.now()):
                return super().content(message)
            template = message.template
            if template is None:
                raise PermanentError(NO_TEMPLATE)
            if not template.whatsapp_content_sid:
                raise PermanentError(NO_APPROVED_TEMPLATE)
            return {
                "content_sid": template.whatsapp_content_sid,
                "content_variables": content_variables(template=template, message=message),
            }
        finally:
            if threading.current_thread().name.startswith("rapport-send"):
                # The outbox's sending threads are short-lived and Django leaves closing their connections to
                # whoever made them: the reads above must not leave one open per thread.
                connections.close_all()
