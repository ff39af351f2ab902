from django.urls import path

from rapport.careers import views

urlpatterns = [
    path("", views.job_list, name="list"),
    path("jobs/<int:job_id>-<slug:slug>/", views.job_detail, name="job"),
    path("jobs/<int:job_id>-<slug:slug>/apply/", views.apply, name="apply"),
    path("jobs/<int:job_id>-<slug:slug>/apply/thanks/", views.thanks, name="thanks"),
    path("join/", views.join, name="join"),
    path("join/thanks/", views.joined, name="joined"),
]
