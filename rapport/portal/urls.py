from django.urls import path

from rapport.portal import views, views_staff
from rapport.privacy import views as privacy_views

urlpatterns = [
    path("", views.sign_in, name="sign_in"),
    path("link/<str:token>/", views.sign_in_link, name="sign_in_link"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("home/", views.home, name="home"),
    path("applications/<int:application_id>/withdraw/", views.withdraw, name="withdraw"),
    path("messages/", views.conversation, name="messages"),
    path("privacy/", views.privacy, name="privacy"),
    path("privacy/consents/<int:consent_id>/withdraw/", views.consent_withdraw_view, name="consent_withdraw"),
    path("privacy/export/", views.export, name="export"),
    path("privacy/delete/", views.deletion_request, name="deletion_request"),
    path("preferences/", views.preferences, name="preferences"),
    path("documents/", views.documents, name="documents"),
    path("documents/<int:request_id>/upload/", views.document_upload_view, name="document_upload"),
    # Workspace side, on a person's profile: ask for a document, share feedback on an application.
    path(
        "staff/candidates/<int:candidate_id>/document-requests/",
        views_staff.document_request_create_view,
        name="document_request_create",
    ),
    path(
        "staff/candidates/<int:candidate_id>/document-requests/new/",
        views_staff.document_request_form_view,
        name="document_request_form",
    ),
    path("staff/candidates/<int:candidate_id>/feedback/", views_staff.feedback_share_view, name="feedback_share"),
    path("staff/candidates/<int:candidate_id>/feedback/new/", views_staff.feedback_form_view, name="feedback_form"),
    # Workspace side, for admins (staff sign-in): the deletion requests people sent from the portal.
    path("admin/deletion-requests/", privacy_views.deletion_requests, name="deletion_requests"),
    path(
        "admin/deletion-requests/<int:request_id>/confirm/",
        privacy_views.deletion_request_decide,
        {"decision": "confirm"},
        name="deletion_request_confirm",
    ),
    path(
        "admin/deletion-requests/<int:request_id>/decline/",
        privacy_views.deletion_request_decide,
        {"decision": "decline"},
        name="deletion_request_decline",
    ),
]
