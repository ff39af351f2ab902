from django.urls import path

from rapport.candidates import views_import

app_name = "imports"
urlpatterns = [
    path("", views_import.import_start, name="start"),
    path("export/", views_import.export_everyone, name="export"),
    path("map/<str:token>/", views_import.import_map, name="map"),
    path("map/<str:token>/preview/", views_import.import_map_preview, name="preview"),
    path("map/<str:token>/cancel/", views_import.import_cancel, name="cancel"),
    path("<int:job_id>/", views_import.import_detail, name="detail"),
    path("<int:job_id>/progress/", views_import.import_progress, name="progress"),
    path("<int:job_id>/report.csv", views_import.import_error_report, name="report"),
]
