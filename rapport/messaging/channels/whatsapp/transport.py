"""WhatsApp out through Twilio: the SMS transport with the WhatsApp sender number and `whatsapp:` addresses.

WhatsApp lets a business write free-form text only within 24 hours of the person's last message; outside that
window Twilio refuses it (error 63016) and the message fails with that reason.
"""

from django.conf import settings

from rapport.messaging.channels.sms.transport import TwilioTransport


class WhatsAppTransport(TwilioTransport):
    label = "WhatsApp"
    prefix = "whatsapp:"
    sender_hint = "TWILIO_WHATSAPP_FROM"

    def sender(self) -> dict[str, str]:
        return {"from_": settings.TWILIO_WHATSAPP_FROM}
