from django.db import connection
from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok", "database": connection.vendor})
    except Exception as exc:  # noqa: BLE001 - a health check reports any failure instead of raising
        return JsonResponse({"status": "error", "detail": str(exc)}, status=503)
