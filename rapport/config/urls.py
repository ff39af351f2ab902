from django.contrib import admin
from django.urls import include, path

from rapport.api.app import api
from rapport.common.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("rapport.accounts.urls")),
    path("jobs/", include("rapport.jobs.urls")),
    path("jobs/", include(("rapport.careers.urls_questions", "questions"), namespace="questions")),
    path("pipeline/", include("rapport.pipeline.urls")),
    path("audit/", include("rapport.timeline.urls")),
    path("pools/", include("rapport.candidates.urls_pools", namespace="pools")),
    path("segments/", include("rapport.candidates.urls_segments", namespace="segments")),
    path("import/", include("rapport.candidates.urls_import", namespace="imports")),
    path("templates/", include("rapport.messaging.urls")),
    path("messages/", include("rapport.messaging.urls_messages", namespace="messages")),
    path("t/", include("rapport.messaging.urls_tracking", namespace="tracking")),
    path("u/", include("rapport.messaging.urls_unsubscribe", namespace="unsubscribe")),
    path("inbox/", include(("rapport.messaging.urls_inbox", "inbox"), namespace="inbox")),
    path("triage/", include(("rapport.messaging.urls_triage", "triage"), namespace="triage")),
    path("notifications/", include(("rapport.notifications.urls", "notifications"), namespace="notifications")),
    path("hooks/email/", include(("rapport.messaging.channels.email.urls", "email_hooks"), namespace="email_hooks")),
    path("hooks/twilio/", include(("rapport.messaging.channels.sms.urls", "twilio_hooks"), namespace="twilio_hooks")),
    path("careers/", include(("rapport.careers.urls", "careers"), namespace="careers")),
    path("portal/", include(("rapport.portal.urls", "portal"), namespace="portal")),
    path("tasks/", include(("rapport.automation.urls", "tasks"), namespace="tasks")),
    path("sequences/", include("rapport.automation.urls_sequences", namespace="sequences")),
    path("triggers/", include("rapport.automation.urls_triggers", namespace="triggers")),
    path("surveys/", include(("rapport.surveys.urls", "surveys"), namespace="surveys")),
    path("faq/", include(("rapport.faq.urls", "faq"), namespace="faq")),
    path("", include("rapport.candidates.urls")),
]
