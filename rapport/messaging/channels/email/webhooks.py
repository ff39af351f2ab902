"""Email providers' webhooks: delivery and engagement tracking, and inbound mail, through django-anymail's views.

Anymail checks each provider's signature or basic auth and parses its payload into normalised events, then hands
them to its `tracking` or `inbound` signal. We use its checking and parsing and not the signals: our subclasses
replace `post` so that each event goes straight to `message_provider_event_record` (tracking) or
`inbound_email_accept` (inbound), explicit calls like every other side effect here. Around each view: 403, logged,
for a request that fails the check; 400 for an authentic one that cannot be read; 404 for a provider that is not
set up; never a 500 for bad input. Refused and unreadable requests are rate-limited per client address; accepted
ones are not, because a bulk send's events come in bursts from a few provider addresses.

A provider that signs its requests (Mailgun, Postal; SendGrid's event webhook and Resend once their key is set)
proves each one by its signature; the basic auth of RAPPORT_WEBHOOK_SECRET, when set, is checked as well. A
provider that can sign but has neither its key nor the basic auth configured is not in service (404) rather than
open to anyone.
"""

import hashlib
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import requests
from anymail.exceptions import (
    AnymailAPIError,
    AnymailConfigurationError,
    AnymailError,
    AnymailInsecureWebhookWarning,
    AnymailWebhookValidationFailure,
)
from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, EventType
from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView, AmazonSESTrackingWebhookView
from anymail.webhooks.brevo import BrevoInboundWebhookView, BrevoTrackingWebhookView
from anymail.webhooks.mailgun import MailgunInboundWebhookView, MailgunTrackingWebhookView
from anymail.webhooks.mailjet import MailjetInboundWebhookView, MailjetTrackingWebhookView
from anymail.webhooks.postal import PostalInboundWebhookView, PostalTrackingWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView, PostmarkTrackingWebhookView
from anymail.webhooks.resend import ResendInboundWebhookView, ResendTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView, SendGridTrackingWebhookView
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from rapport.api.auth import throttle_address
from rapport.api.errors import RateLimited
from rapport.messaging.channels.email import standard_webhooks
from rapport.messaging.channels.email.inbound import inbound_email_accept
from rapport.messaging.channels.email.transport import METADATA_MESSAGE_ID
from rapport.messaging.services_provider import ProviderEvent, message_provider_event_record

logger = logging.getLogger(__name__)

# _serve decides which requests may come without basic auth; anymail's warning would call signed webhooks open.
warnings.filterwarnings("ignore", category=AnymailInsecureWebhookWarning)

# What a payload can make anymail's parsers throw once the request is authentic: the provider's (or a misrouted
# webhook's) fault, so the answer is 400, not 500.
_UNREADABLE = (
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    MultiPartParserError,
    AnymailConfigurationError,
    AnymailError,
)

_KINDS = {
    EventType.DELIVERED: "delivered",
    EventType.BOUNCED: "bounced",
    EventType.DEFERRED: "deferred",
    EventType.COMPLAINED: "complained",
    EventType.UNSUBSCRIBED: "unsubscribed",
    EventType.REJECTED: "rejected",
    EventType.FAILED: "failed",
    EventType.OPENED: "opened",
    EventType.CLICKED: "clicked",
}


class UnreadableWebhook(Exception):
    """An authentic request whose payload the provider's parser could not read."""


class ProviderUnavailable(Exception):
    """Parsing needed the provider's API (an inbound attachment to fetch) and it did not answer: try again later."""


@dataclass(frozen=True)
class Provider:
    slug: str  # in the URL, and the source of inbound mail
    tracking_view: type
    inbound_view: type
    # Providers whose requests carry no signature anymail can check here prove themselves only by the basic auth
    # in the URL we gave them, so without RAPPORT_WEBHOOK_SECRET their webhooks are closed rather than open to all.
    needs_webhook_secret: bool = True
    # Some providers report a soft (temporary) bounce as a bounce; it must not suppress the address.
    soft_bounce: Callable[[AnymailTrackingEvent], bool] = lambda event: False
    # Whether the inbound event id names the mail (Postmark's MessageID) rather than one delivery of the webhook.
    inbound_id_names_the_mail: bool = True
    # Our kind for an event anymail leaves unknown or names differently from the other providers; None keeps anymail's.
    kind_of: Callable[[AnymailTrackingEvent], str | None] = lambda event: None


def _esp(event: AnymailTrackingEvent) -> Any:
    return event.esp_event if isinstance(event.esp_event, dict) else {}


def _fingerprint(slug: str, event: AnymailTrackingEvent) -> str:
    """An id for events the provider gives none (Brevo, Mailjet, most Postmark events): same event, same id."""
    parts = [slug, event.event_type, event.message_id, event.timestamp, event.recipient, event.click_url]
    return "sha256:" + hashlib.sha256("|".join(str(part or "") for part in parts).encode()).hexdigest()


def provider_event(provider: Provider, event: AnymailTrackingEvent) -> ProviderEvent:
    """Anymail's normalised tracking event as our service takes it."""
    kind = provider.kind_of(event) or _KINDS.get(event.event_type, "")
    if kind == "bounced" and provider.soft_bounce(event):
        kind = "deferred"
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    return ProviderEvent(
        provider=provider.slug,
        kind=kind,
        event_id=str(event.event_id or "") or _fingerprint(provider.slug, event),
        provider_message_id=str(event.message_id or ""),
        rapport_message_id=str(metadata.get(METADATA_MESSAGE_ID, "")),
        recipient=event.recipient or "",
        reason=" ".join(str(event.mta_response or event.description or "").split()),
        reject_reason=event.reject_reason or "",
        url=event.click_url or "",
        # Some providers write times without a zone; theirs are UTC.
        occurred_at=(
            timezone.make_aware(event.timestamp, UTC)
            if event.timestamp is not None and timezone.is_naive(event.timestamp)
            else event.timestamp
        ),
    )


def _raw(message: AnymailInboundMessage) -> bytes:
    try:
        return message.as_bytes()
    except (UnicodeError, ValueError, LookupError):
        # A header the strict serialiser refuses: keep what was received, character for character.
        return message.as_string().encode("utf-8", "surrogateescape")


class _Checked:
    """Mixed in before an anymail view: its checks and parsing, with each way they can fail told apart."""

    provider: Provider
    # The ANYMAIL setting holding the key this provider signs with, for providers that may sign, and its variable.
    signing_setting: str = ""
    signing_variable: str = ""

    def checked_events(self, request: HttpRequest) -> list[Any]:
        try:
            self.run_validators(request)
            return self.parse_events(request)
        except AnymailWebhookValidationFailure:
            raise
        except AnymailAPIError as exc:
            if exc.status_code is not None or isinstance(exc.__cause__, requests.RequestException):
                raise ProviderUnavailable(_first_line(exc)) from exc
            raise UnreadableWebhook(_first_line(exc)) from exc
        except _UNREADABLE as exc:
            raise UnreadableWebhook(_first_line(exc)) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _RecordTracking(_Checked):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        for event in self.checked_events(request):
            message_provider_event_record(event=provider_event(self.provider, event))
        return HttpResponse()


class _AcceptInbound(_Checked):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        for event in self.checked_events(request):
            self.accept(event)
        return HttpResponse()

    def accept(self, event: AnymailInboundEvent) -> None:
        raw = _raw(event.message)
        external_id = str(event.event_id or "") if self.provider.inbound_id_names_the_mail else ""
        # Without the provider's id, inbound_email_accept names the mail by a hash of its bytes.
        inbound_email_accept(raw=raw, source=self.provider.slug, external_id=external_id)


class _SnsChallenge:
    """Amazon SNS sends the basic auth of the URL only after a 401 asks for it."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.basic_auth and not request.META.get("HTTP_AUTHORIZATION"):
            response = HttpResponse(status=401)
            response["WWW-Authenticate"] = 'Basic realm="Rapport webhooks"'
            return response
        return super().post(request, *args, **kwargs)


class MailgunTracking(_RecordTracking, MailgunTrackingWebhookView):
    pass


class MailgunInbound(_AcceptInbound, MailgunInboundWebhookView):
    pass


class PostmarkTracking(_RecordTracking, PostmarkTrackingWebhookView):
    pass


class PostmarkInbound(_AcceptInbound, PostmarkInboundWebhookView):
    pass


class SendGridTracking(_RecordTracking, SendGridTrackingWebhookView):
    signing_setting = "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY"
    signing_variable = "SENDGRID_WEBHOOK_VERIFICATION_KEY"


class SendGridInbound(_AcceptInbound, SendGridInboundWebhookView):
    pass


class BrevoTracking(_RecordTracking, BrevoTrackingWebhookView):
    pass


class BrevoInbound(_AcceptInbound, BrevoInboundWebhookView):
    pass


class MailjetTracking(_RecordTracking, MailjetTrackingWebhookView):
    pass


class MailjetInbound(_AcceptInbound, MailjetInboundWebhookView):
    pass


class _StandardWebhooksSigned:
    """Resend's Svix signature, checked here rather than by the svix package (see docs/architecture.md)."""

    signing_setting = "RESEND_WEBHOOK_SECRETS"
    signing_variable = "RESEND_WEBHOOK_SECRET"

    def validate_request(self, request: HttpRequest) -> None:
        # Anymail calls every validate_request in the class chain, so its basic auth check runs as well.
        secrets = settings.ANYMAIL.get(self.signing_setting)
        if not secrets:
            return
        try:
            standard_webhooks.verify(secrets=secrets, headers=request.headers, body=request.body)
        except standard_webhooks.InvalidSignature as exc:
            raise AnymailWebhookValidationFailure(f"Resend webhook signature refused: {exc}")


class ResendTracking(_StandardWebhooksSigned, _RecordTracking, ResendTrackingWebhookView):
    pass


class ResendInbound(_StandardWebhooksSigned, _AcceptInbound, ResendInboundWebhookView):
    pass


class PostalTracking(_RecordTracking, PostalTrackingWebhookView):
    pass


class PostalInbound(_AcceptInbound, PostalInboundWebhookView):
    pass


def _postal_kind(event: AnymailTrackingEvent) -> str | None:
    esp = _esp(event)
    if esp.get("event") == "MessageLoaded":
        # Postal's open (its tracking pixel was loaded), which anymail does not name.
        return "opened"
    payload = esp.get("payload") if isinstance(esp.get("payload"), dict) else {}
    if payload.get("status") == "HardFail":
        # The receiving server refused it for good: a hard bounce, as Mailgun's permanent failure and SendGrid's bounce
        # are. (Anymail calls it failed, which would leave the address usable.)
        return "bounced"
    return None


class AmazonSesTracking(_SnsChallenge, _RecordTracking, AmazonSESTrackingWebhookView):
    pass


class AmazonSesInbound(_SnsChallenge, _AcceptInbound, AmazonSESInboundWebhookView):
    pass


PROVIDERS = {
    provider.slug: provider
    for provider in (
        # Mailgun signs every request (HMAC of timestamp and token); its inbound token is per request, not per mail.
        Provider(
            "mailgun", MailgunTracking, MailgunInbound, needs_webhook_secret=False, inbound_id_names_the_mail=False
        ),
        Provider(
            "postmark", PostmarkTracking, PostmarkInbound, soft_bounce=lambda e: _esp(e).get("Type") == "SoftBounce"
        ),
        # SendGrid's "blocked" bounce is a temporary refusal; its "bounce" one is final.
        Provider("sendgrid", SendGridTracking, SendGridInbound, soft_bounce=lambda e: _esp(e).get("type") == "blocked"),
        Provider("brevo", BrevoTracking, BrevoInbound, soft_bounce=lambda e: _esp(e).get("event") == "soft_bounce"),
        Provider(
            "mailjet", MailjetTracking, MailjetInbound, soft_bounce=lambda e: not _esp(e).get("hard_bounce", True)
        ),
        Provider("resend", ResendTracking, ResendInbound),
        # Postal signs every request with its server's RSA key (POSTAL_WEBHOOK_KEY, required) and names messages by
        # its own numeric id, which its backend returns as the provider message id.
        Provider("postal", PostalTracking, PostalInbound, needs_webhook_secret=False, kind_of=_postal_kind),
        # SES describes a bounce as "<bounceType>: <bounceSubType>"; it retries Transient ones itself.
        Provider(
            "amazonses",
            AmazonSesTracking,
            AmazonSesInbound,
            soft_bounce=lambda e: (e.description or "").startswith("Transient"),
        ),
    )
}


def _remote(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def _throttled(request: HttpRequest) -> HttpResponse | None:
    try:
        throttle_address(request, "email-hooks")
    except RateLimited as exc:
        response = HttpResponse("Too many requests. Try again in a minute.", status=429, content_type="text/plain")
        response["Retry-After"] = str(exc.retry_after)
        return response
    return None


def _refuse(request: HttpRequest, provider: str, why: str) -> HttpResponse:
    logger.warning("Refused a %s email webhook from %s: %s", provider, _remote(request), why)
    return _throttled(request) or HttpResponse("Forbidden.", status=403, content_type="text/plain")


def _run(view_class: type, request: HttpRequest, **initkwargs: Any) -> HttpResponse:
    """What `view_class.as_view()` does, with the view built here so that a setup error is ours to answer."""
    view = view_class(**initkwargs)
    view.setup(request)
    return view.dispatch(request)


def _serve(request: HttpRequest, slug: str, *, inbound: bool) -> HttpResponse:
    provider = PROVIDERS.get(slug)
    if provider is None:
        raise Http404("No such email provider.")
    view_class = provider.inbound_view if inbound else provider.tracking_view
    try:
        if request.method == "POST" and provider.needs_webhook_secret and not settings.ANYMAIL.get("WEBHOOK_SECRET"):
            if not view_class.signing_setting:
                return _refuse(request, slug, "RAPPORT_WEBHOOK_SECRET is not set, so the request cannot be checked")
            if not settings.ANYMAIL.get(view_class.signing_setting):
                # It could sign, so nothing is set up yet: closed, as a provider missing its key is.
                raise ImproperlyConfigured(f"neither {view_class.signing_variable} nor RAPPORT_WEBHOOK_SECRET is set")
        return _run(view_class, request, provider=provider)
    except AnymailWebhookValidationFailure as exc:
        return _refuse(request, slug, str(exc))
    except UnreadableWebhook as exc:
        logger.warning("Could not read a %s email webhook from %s: %s", slug, _remote(request), exc)
        return _throttled(request) or HttpResponse(
            "The payload could not be read.", status=400, content_type="text/plain"
        )
    except ProviderUnavailable as exc:
        logger.warning("A %s inbound email could not be fetched from the provider: %s", slug, exc)
        # Not accepted, so the provider sends it again later.
        return HttpResponse("The provider could not be reached; try again.", status=503, content_type="text/plain")
    except ImproperlyConfigured as exc:
        # A missing key or package: the endpoint is out of service until an administrator sets it up.
        logger.error("The %s email webhook is not set up: %s", slug, exc)
        raise Http404("This email provider's webhook is not set up.")


@csrf_exempt
def tracking(request: HttpRequest, provider: str) -> HttpResponse:
    """The provider's delivery and engagement events for messages we sent."""
    return _serve(request, provider, inbound=False)


@csrf_exempt
def inbound(request: HttpRequest, provider: str) -> HttpResponse:
    """Mail people sent to our inbound address, parsed by the provider: filed as a reply or for triage."""
    return _serve(request, provider, inbound=True)
