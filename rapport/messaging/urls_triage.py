from django.urls import path

from rapport.messaging import views_triage

urlpatterns = [
    path("", views_triage.triage_list, name="list"),
    path("<int:inbound_id>/lead/", views_triage.triage_make_lead, name="make_lead"),
    path("<int:inbound_id>/dismiss/", views_triage.triage_dismiss, name="dismiss"),
    path("<int:inbound_id>/raw/", views_triage.triage_raw, name="raw"),
]
