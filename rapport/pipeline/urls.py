from django.urls import path

from rapport.pipeline import views

app_name = "pipeline"
urlpatterns = [
    path("applications/<int:application_id>/move/", views.move, name="move"),
    path("applications/<int:application_id>/reject/", views.reject, name="reject"),
    path("applications/<int:application_id>/withdraw/", views.withdraw, name="withdraw"),
    path("applications/<int:application_id>/reopen/", views.reopen, name="reopen"),
]
