from django.urls import path

from rapport.automation import views

urlpatterns = [
    path("", views.task_list_view, name="list"),
    path("new/", views.task_create_view, name="create"),
    path("people/", views.people_picker_view, name="people"),
    path("<int:task_id>/done/", views.task_done_view, name="done"),
    path("<int:task_id>/edit/", views.task_edit_view, name="edit"),
]
