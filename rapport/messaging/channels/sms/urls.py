from django.urls import path

from rapport.messaging.channels.sms import views

urlpatterns = [
    path("status", views.status, name="status"),
    path("inbound", views.inbound, name="inbound"),
]
