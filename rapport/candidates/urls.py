from django.urls import path

from rapport.accounts.views import settings_redirect
from rapport.candidates import views

app_name = "candidates"
urlpatterns = [
    path("", views.candidate_list_view, name="list"),
    path("settings/", settings_redirect, name="settings_redirect"),
    path("candidates/new/", views.candidate_create_view, name="create"),
    path("candidates/new/validate/", views.candidate_validate, name="validate_new"),
    path("candidates/bulk/<slug:action>/", views.bulk_action, name="bulk"),
    path("candidates/export/", views.export_csv, name="export"),
    path("candidates/<int:candidate_id>/", views.candidate_detail_view, name="detail"),
    path("candidates/<int:candidate_id>/edit/", views.candidate_edit_view, name="edit"),
    path("candidates/<int:candidate_id>/edit/validate/", views.candidate_validate, name="validate"),
    path("candidates/<int:candidate_id>/timeline/", views.candidate_timeline_view, name="timeline"),
    path("candidates/<int:candidate_id>/notes/", views.note_add_view, name="note_add"),
    path("candidates/<int:candidate_id>/tags/", views.tag_add_view, name="tag_add"),
    path("candidates/<int:candidate_id>/tags/remove/", views.tag_remove_view, name="tag_remove"),
    path("candidates/<int:candidate_id>/pools/", views.pool_add_view, name="pool_add"),
    path("candidates/<int:candidate_id>/pools/choose/", views.pool_add_form_view, name="pool_add_form"),
    path("candidates/<int:candidate_id>/pools/<int:pool_id>/remove/", views.pool_remove_view, name="pool_remove"),
    path("candidates/<int:candidate_id>/jobs/", views.job_add_view, name="job_add"),
    path("candidates/<int:candidate_id>/jobs/choose/", views.job_add_form_view, name="job_add_form"),
    path("candidates/<int:candidate_id>/attachments/", views.attachment_add_view, name="attachment_add"),
    path(
        "candidates/<int:candidate_id>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment_download",
    ),
    path(
        "candidates/<int:candidate_id>/attachments/<int:attachment_id>/delete/",
        views.attachment_delete_view,
        name="attachment_delete",
    ),
    path("candidates/<int:candidate_id>/merge/", views.candidate_merge_view, name="merge"),
    path("candidates/<int:candidate_id>/erase/", views.candidate_erase_view, name="erase"),
]
