from django.urls import path

from rapport.messaging import views_inbox

urlpatterns = [
    path("", views_inbox.inbox, name="list"),
    path("<slug:action>/", views_inbox.inbox_action, name="action"),
]
