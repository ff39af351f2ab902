"""The team's set-up of a job's screening questions, in the workspace beside the job's stages."""

from django.urls import path

from rapport.careers import views_questions

urlpatterns = [
    path("<int:job_id>/questions/", views_questions.question_list, name="list"),
    path("<int:job_id>/questions/add/", views_questions.question_add, name="add"),
    path("<int:job_id>/questions/<int:question_id>/edit/", views_questions.question_edit, name="edit"),
    path("<int:job_id>/questions/<int:question_id>/move/", views_questions.question_move, name="move"),
    path("<int:job_id>/questions/<int:question_id>/delete/", views_questions.question_delete, name="delete"),
]
