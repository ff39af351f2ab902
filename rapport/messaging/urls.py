from django.urls import path

from rapport.messaging import views

app_name = "messaging"
urlpatterns = [
    path("", views.template_list, name="list"),
    path("new/", views.template_create, name="create"),
    path("preview/", views.template_preview, name="preview"),
    path("<int:template_id>/", views.template_edit, name="edit"),
    path("<int:template_id>/delete/", views.template_delete, name="delete"),
]
