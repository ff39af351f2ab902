from django.urls import path

from rapport.notifications import views

urlpatterns = [
    path("", views.notification_list_view, name="list"),
    path("read/", views.mark_all_read_view, name="mark_all_read"),
    path("settings/", views.preferences_view, name="preferences"),
    path("<int:notification_id>/", views.notification_open_view, name="open"),
    path("follow/<int:candidate_id>/", views.follow_toggle_view, name="follow"),
]
