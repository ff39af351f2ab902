from django.urls import include, path

from rapport.messaging import views_bulk, views_compose

app_name = "messages"
urlpatterns = [
    path("bulk/", views_bulk.bulk_email, name="bulk"),
    path("to/<int:candidate_id>/compose/", views_compose.compose_panel, name="compose"),
    path("to/<int:candidate_id>/prefill/", views_compose.compose_prefill, name="prefill"),
    path("to/<int:candidate_id>/preview/", views_compose.compose_preview, name="preview"),
    path("to/<int:candidate_id>/send/", views_compose.compose_send, name="send"),
    path("", include("rapport.messaging.urls_thread")),
]
