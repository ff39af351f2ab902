"""The WhatsApp tests use the SMS tests' fake Twilio and person with a phone number."""

from tests.messaging.channels.sms.conftest import texter, twilio  # noqa: F401 - fixtures
