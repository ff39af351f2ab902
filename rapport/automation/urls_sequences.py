from django.urls import path

from rapport.automation import views_sequences, views_upcoming

app_name = "sequences"
urlpatterns = [
    path("", views_sequences.sequence_list_view, name="list"),
    path("new/", views_sequences.sequence_create_view, name="create"),
    path("enrol/", views_sequences.enrol_bulk_view, name="enrol_bulk"),
    path("<int:sequence_id>/", views_sequences.sequence_edit_view, name="edit"),
    path("<int:sequence_id>/status/", views_sequences.sequence_status_view, name="status"),
    path("<int:sequence_id>/stats/", views_sequences.sequence_stats_view, name="stats"),
    path("<int:sequence_id>/enrolments/", views_sequences.enrolment_list_view, name="enrolments"),
    path("<int:sequence_id>/enrolments/add/", views_sequences.enrol_view, name="enrol"),
    path(
        "<int:sequence_id>/enrolments/<int:enrolment_id>/<slug:action>/",
        views_sequences.enrolment_action_view,
        name="enrolment_action",
    ),
    path("touches/<int:enrolment_id>/<slug:action>/", views_upcoming.enrolment_touch_view, name="touch"),
]
