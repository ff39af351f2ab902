"""Email providers' webhooks, mounted at /hooks/email/ (the providers are listed in webhooks.PROVIDERS)."""

from django.urls import path

from rapport.messaging.channels.email import webhooks

urlpatterns = [
    path("<slug:provider>/tracking/", webhooks.tracking, name="tracking"),
    path("<slug:provider>/inbound/", webhooks.inbound, name="inbound"),
]
