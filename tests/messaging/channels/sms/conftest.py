"""Fixtures for the SMS and WhatsApp tests: a fake Twilio on loopback, and a person with a phone number."""

import pytest

from tests.messaging.channels.sms.fake_twilio import FakeTwilio, make_texter, point_settings_at
from tests.messaging.conftest import free_port


@pytest.fixture
def twilio(settings):
    """A running fake Twilio, with Rapport's Twilio settings pointed at it."""
    server = FakeTwilio(free_port())
    server.start()
    point_settings_at(settings, server)
    yield server
    server.stop()


@pytest.fixture
def texter(recruiter):
    return make_texter(recruiter)
