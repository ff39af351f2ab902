from django.urls import path

from rapport.automation import views_triggers, views_upcoming

app_name = "triggers"
urlpatterns = [
    path("", views_triggers.trigger_list_view, name="list"),
    path("new/", views_triggers.trigger_create_view, name="create"),
    path("<int:trigger_id>/", views_triggers.trigger_edit_view, name="edit"),
    path("<int:trigger_id>/toggle/", views_triggers.trigger_toggle_view, name="toggle"),
    path("<int:trigger_id>/runs/", views_triggers.trigger_runs_view, name="runs"),
    path("touches/<int:run_id>/<slug:action>/", views_upcoming.trigger_run_touch_view, name="touch"),
]
