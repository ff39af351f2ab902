from django.urls import path

from rapport.messaging import views_unsubscribe

app_name = "unsubscribe"
urlpatterns = [
    path("<str:token>", views_unsubscribe.unsubscribe, name="unsubscribe"),
    path("<str:token>/preferences", views_unsubscribe.preferences, name="preferences"),
]
