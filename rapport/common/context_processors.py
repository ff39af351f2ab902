from django.conf import settings
from django.http import HttpRequest


def workspace(request: HttpRequest) -> dict:
    return {"org_name": settings.RAPPORT_ORG_NAME}
