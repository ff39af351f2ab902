from django.db import connection
from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    from rapport.automation.engine import queue_status

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        # Queue depth, the oldest due item and the timeline consumers' lag: a few indexed reads, however big the data.
        return JsonResponse({"status": "ok", "database": connection.vendor, "queue": queue_status()})
    except Exception as exc:  # noqa: BLE001 - a health check reports any failure instead of raising
        return JsonResponse({"status": "error", "detail": str(exc)}, status=503)
