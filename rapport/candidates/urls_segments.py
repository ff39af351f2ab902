from django.urls import path

from rapport.candidates import views_pools

app_name = "segments"
urlpatterns = [
    path("", views_pools.segment_list, name="list"),
    path("new/", views_pools.segment_create_view, name="create"),
    path("<int:segment_id>/", views_pools.segment_detail, name="detail"),
]
