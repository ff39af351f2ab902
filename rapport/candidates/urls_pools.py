from django.urls import path

from rapport.candidates import views_pools

app_name = "pools"
urlpatterns = [
    path("", views_pools.pool_list, name="list"),
    path("<int:pool_id>/", views_pools.pool_detail, name="detail"),
    path("<int:pool_id>/search/", views_pools.pool_search, name="search"),
    path("<int:pool_id>/members/", views_pools.pool_add, name="add"),
    path("<int:pool_id>/members/<int:candidate_id>/remove/", views_pools.pool_remove, name="remove"),
]
