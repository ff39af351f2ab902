from django.urls import path

from rapport.messaging import views_tracking

app_name = "tracking"
urlpatterns = [
    path("o/<str:token>.gif", views_tracking.open_pixel, name="open"),
    path("c/<str:token>", views_tracking.click, name="click"),
]
