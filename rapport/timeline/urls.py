from django.urls import path

from rapport.timeline import views

app_name = "timeline"
urlpatterns = [path("", views.audit_log, name="audit_log")]
