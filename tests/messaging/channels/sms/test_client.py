"""The Twilio client against a fake Twilio on loopback: what it sends, how it reads answers, one connection for
many messages; Twilio's webhook signature; and the settings that must be complete or absent."""

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured

from rapport.config.settings import _twilio_settings
from rapport.messaging.channels.base import TransientError
from rapport.messaging.channels.sms.client import TwilioClient, TwilioRefused, compute_signature, signature_is_valid
from tests.messaging.channels.sms.fake_twilio import ACCOUNT_SID, AUTH_TOKEN
from tests.messaging.conftest import free_port

# Twilio's published example: auth token 12345, this URL and these parameters give this signature.
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]
DOC_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


@pytest.fixture
def client(twilio):
    client = TwilioClient(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, base_url=twilio.url)
    yield client
    client.close()


def test_a_message_is_posted_as_a_form_with_basic_auth_and_its_sid_returned(twilio, client):
    sid = client.send_message(
        to="+14155550101",
        body="Hi Grace",
        from_="+14155550100",
        status_callback="https://x.example/hooks/twilio/status",
    )

    assert sid.startswith("SM") and len(sid) == 34
    (request,) = twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert base64.b64decode(request["auth"].removeprefix("Basic ")).decode() == f"{ACCOUNT_SID}:{AUTH_TOKEN}"
    assert request["form"] == {
        "To": "+14155550101",
        "From": "+14155550100",
        "Body": "Hi Grace",
        "StatusCallback": "https://x.example/hooks/twilio/status",
    }


def test_an_approved_whatsapp_template_is_sent_as_content_sid_and_variables_without_a_body(twilio, client):
    sid = client.send_message(
        to="whatsapp:+14155550101",
        from_="whatsapp:+14155550199",
        content_sid="HX" + "a" * 32,
        content_variables='{"1": "Ada", "2": "Backend engineer"}',
    )

    assert sid.startswith("SM")
    assert twilio.forms[0] == {
        "To": "whatsapp:+14155550101",
        "From": "whatsapp:+14155550199",
        "ContentSid": "HX" + "a" * 32,
        "ContentVariables": '{"1": "Ada", "2": "Backend engineer"}',
    }


def test_a_messaging_service_is_sent_instead_of_a_from_number(twilio, client):
    client.send_message(to="+14155550101", body="Hi", messaging_service_sid="MG" + "a" * 32)

    assert twilio.forms[0]["MessagingServiceSid"] == "MG" + "a" * 32
    assert "From" not in twilio.forms[0]


def test_a_batch_reuses_one_connection(twilio, client):
    sids = {client.send_message(to=f"+1415555010{n}", body="Hi", from_="+14155550100") for n in range(3)}

    assert len(sids) == 3
    assert twilio.connections == 1


def test_a_refused_message_is_permanent_with_twilios_code_and_words(twilio, client):
    twilio.fail_with(400, 21211, "The 'To' number +1415 is not a valid phone number.")

    with pytest.raises(TwilioRefused) as caught:
        client.send_message(to="+1415", body="Hi", from_="+14155550100")

    assert caught.value.code == "21211" and not caught.value.transient
    assert "21211" in caught.value.reason and "not a valid phone number" in caught.value.reason


@pytest.mark.parametrize(("status", "server_down"), [(429, True), (500, False), (503, True)])
def test_rate_limits_and_server_errors_are_transient(twilio, client, status, server_down):
    twilio.fail_with(status, 20429 if status == 429 else None, "Too Many Requests" if status == 429 else "Oops")

    with pytest.raises(TransientError) as caught:
        client.send_message(to="+14155550101", body="Hi", from_="+14155550100")

    assert str(status) in caught.value.reason
    assert caught.value.server_down is server_down


def test_wrong_credentials_are_transient_and_name_the_settings(twilio):
    client = TwilioClient(account_sid=ACCOUNT_SID, auth_token="wrong", base_url=twilio.url)

    with pytest.raises(TransientError) as caught:
        client.send_message(to="+14155550101", body="Hi", from_="+14155550100")

    assert caught.value.server_down and "TWILIO_AUTH_TOKEN" in caught.value.reason


def test_twilio_out_of_reach_is_transient_and_server_down():
    client = TwilioClient(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, base_url=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(TransientError) as caught:
        client.send_message(to="+14155550101", body="Hi", from_="+14155550100")

    assert caught.value.server_down and "could not be reached" in caught.value.reason


def test_a_kept_alive_connection_the_server_dropped_is_reopened(client, twilio):
    client.send_message(to="+14155550101", body="First", from_="+14155550100")
    twilio.drop_connections()

    sid = client.send_message(to="+14155550101", body="Second", from_="+14155550100")

    assert sid and [f["Body"] for f in twilio.forms] == ["First", "Second"]
    assert twilio.connections == 2


# --- webhook signatures ---------------------------------------------------------------------------------------------


def test_the_signature_matches_twilios_published_examples():
    assert compute_signature(auth_token="12345", url=DOC_URL, params=DOC_PARAMS) == DOC_SIGNATURE
    # Repeated parameters: names sorted, then each distinct value sorted.
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234")]
    assert compute_signature(auth_token="12345", url=DOC_URL, params=repeated) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


@pytest.mark.parametrize(
    ("token", "url", "params", "signature"),
    [
        ("12345", DOC_URL, DOC_PARAMS, DOC_SIGNATURE),
        ("54321", DOC_URL, DOC_PARAMS, DOC_SIGNATURE),
        ("12345", DOC_URL + "&x=1", DOC_PARAMS, DOC_SIGNATURE),
        ("12345", DOC_URL, [*DOC_PARAMS[:-1], ("To", "+18005551213")], DOC_SIGNATURE),
        ("12345", DOC_URL, DOC_PARAMS, ""),
        ("", DOC_URL, DOC_PARAMS, DOC_SIGNATURE),
        ("12345", DOC_URL, DOC_PARAMS, "not a signature ✓"),
    ],
)
def test_only_the_exact_signature_is_accepted(token, url, params, signature):
    valid = signature_is_valid(auth_token=token, url=url, params=params, signature=signature)

    assert valid is (token == "12345" and url == DOC_URL and params == DOC_PARAMS and signature == DOC_SIGNATURE)


# --- settings -------------------------------------------------------------------------------------------------------

COMPLETE = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM_NUMBER": "+14155550100"}


def test_twilio_may_be_left_out_entirely():
    assert _twilio_settings({})["TWILIO_ACCOUNT_SID"] == ""
    assert _twilio_settings({})["TWILIO_BASE_URL"] == "https://api.twilio.com"


def test_complete_settings_are_kept():
    values = _twilio_settings({**COMPLETE, "TWILIO_BASE_URL": "http://127.0.0.1:9/"})

    assert values["TWILIO_FROM_NUMBER"] == "+14155550100" and values["TWILIO_BASE_URL"] == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"TWILIO_ACCOUNT_SID": ACCOUNT_SID}, "TWILIO_AUTH_TOKEN"),
        ({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM_NUMBER": "+14155550100"}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}, "TWILIO_FROM_NUMBER"),
        ({"TWILIO_FROM_NUMBER": "+14155550100"}, "TWILIO_ACCOUNT_SID"),
        ({**COMPLETE, "TWILIO_ACCOUNT_SID": "AC123"}, "TWILIO_ACCOUNT_SID"),
        ({**COMPLETE, "TWILIO_FROM_NUMBER": "0415 555 0100"}, "TWILIO_FROM_NUMBER"),
        ({**COMPLETE, "TWILIO_WHATSAPP_FROM": "whatsapp:+1415"}, "TWILIO_WHATSAPP_FROM"),
        ({**COMPLETE, "TWILIO_MESSAGING_SERVICE_SID": "MG1"}, "TWILIO_MESSAGING_SERVICE_SID"),
        ({**COMPLETE, "TWILIO_BASE_URL": "api.twilio.com"}, "TWILIO_BASE_URL"),
    ],
)
def test_partial_or_malformed_settings_stop_start_up_naming_the_variable(values, named):
    with pytest.raises(ImproperlyConfigured, match=named):
        _twilio_settings(values)
