from django.urls import path

from rapport.surveys import views

urlpatterns = [
    path("", views.survey_list_view, name="list"),
    path("new/", views.survey_create_view, name="create"),
    path("send/", views.survey_send_view, name="send"),
    path("<int:survey_id>/", views.survey_results_view, name="results"),
    path("<int:survey_id>/edit/", views.survey_edit_view, name="edit"),
    # Public: the signed link in the invitation email.
    path("answer/<str:token>/", views.answer_view, name="answer"),
]
