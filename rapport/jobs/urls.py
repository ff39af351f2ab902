from django.urls import path

from rapport.jobs import views, views_settings

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("new/", views.job_create_view, name="create"),
    path("<int:job_id>/", views.job_detail, name="detail"),
    path("<int:job_id>/edit/", views.job_edit, name="edit"),
    path("<int:job_id>/board/", views.job_board, name="board"),
    path("<int:job_id>/stages/<int:stage_id>/cards/", views.column_more, name="column_more"),
    path("<int:job_id>/people/", views.people_search, name="people"),
    path("<int:job_id>/people/add/", views.people_add, name="people_add"),
    path("<int:job_id>/stages/", views.job_stages, name="stages"),
    path("<int:job_id>/stages/add/", views.job_stage_add, name="stage_add"),
    path("<int:job_id>/stages/<int:stage_id>/rename/", views.job_stage_rename, name="stage_rename"),
    path("<int:job_id>/stages/<int:stage_id>/move/", views.job_stage_move, name="stage_move"),
    path("<int:job_id>/stages/<int:stage_id>/delete/", views.job_stage_delete, name="stage_delete"),
    path("<int:job_id>/stages/<int:stage_id>/template/", views.job_stage_template, name="stage_template"),
    path("<int:job_id>/stages/<int:stage_id>/public-label/", views.job_stage_public_label, name="stage_public_label"),
    path("settings/", views_settings.settings_index, name="settings"),
    path("settings/rejection-reasons/", views_settings.reasons, name="settings_reasons"),
    path(
        "settings/rejection-reasons/<int:reason_id>/deactivate/",
        views_settings.reason_deactivate,
        name="settings_reason_deactivate",
    ),
    path(
        "settings/rejection-reasons/<int:reason_id>/activate/",
        views_settings.reason_activate,
        name="settings_reason_activate",
    ),
    path("settings/custom-fields/", views_settings.custom_fields, name="settings_fields"),
    path(
        "settings/custom-fields/<int:definition_id>/move/",
        views_settings.custom_field_move,
        name="settings_field_move",
    ),
    path("settings/stages/", views_settings.stage_template, name="settings_stages"),
    path(
        "settings/stages/<int:template_id>/rename/",
        views_settings.stage_template_rename_view,
        name="settings_stage_rename",
    ),
    path(
        "settings/stages/<int:template_id>/move/",
        views_settings.stage_template_move,
        name="settings_stage_move",
    ),
    path(
        "settings/stages/<int:template_id>/delete/",
        views_settings.stage_template_delete_view,
        name="settings_stage_delete",
    ),
]
