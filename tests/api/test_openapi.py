import re

import pytest
from django.test import Client

CONTRACT = [
    ("get", "/me"),
    ("get", "/users"),
    ("post", "/candidates"),
    ("get", "/candidates"),
    ("get", "/candidates/{candidate_id}"),
    ("patch", "/candidates/{candidate_id}"),
    ("delete", "/candidates/{candidate_id}"),
    ("get", "/candidates/{candidate_id}/timeline"),
    ("post", "/candidates/{candidate_id}/notes"),
    ("post", "/candidates/merge"),
    ("get", "/jobs"),
    ("post", "/jobs"),
    ("get", "/jobs/{job_id}"),
    ("patch", "/jobs/{job_id}"),
    ("get", "/jobs/{job_id}/stages"),
    ("get", "/jobs/{job_id}/applications"),
    ("post", "/applications"),
    ("get", "/applications/{application_id}"),
    ("patch", "/applications/{application_id}"),
    ("post", "/applications/{application_id}/move"),
    ("post", "/applications/{application_id}/reject"),
    ("post", "/applications/{application_id}/withdraw"),
    ("get", "/rejection-reasons"),
    ("get", "/pools"),
    ("post", "/pools"),
    ("post", "/pools/{pool_id}/members"),
    ("delete", "/pools/{pool_id}/members/{candidate_id}"),
    ("get", "/segments"),
    ("post", "/segments"),
    ("get", "/segments/{segment_id}/members"),
    ("get", "/templates"),
    ("post", "/templates"),
    ("get", "/templates/{template_id}"),
    ("patch", "/templates/{template_id}"),
    ("delete", "/templates/{template_id}"),
    ("post", "/templates/{template_id}/preview"),
    ("get", "/tasks"),
    ("post", "/tasks"),
    ("patch", "/tasks/{task_id}"),
]


@pytest.fixture
def schema(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_openapi_document_covers_the_whole_contract(schema):
    documented = {(method, path.removeprefix("/api/v1")) for path, ops in schema["paths"].items() for method in ops}

    assert set(CONTRACT) <= documented
    assert schema["openapi"].startswith("3.")


def test_the_document_explains_auth_errors_pagination_and_idempotency(schema):
    description = schema["info"]["description"]

    for phrase in ("Bearer", '{"error": {"code"', "next_cursor", "Idempotency-Key", "rate_limited", "ISO-8601"):
        assert phrase in description
    assert schema["components"]["securitySchemes"]["BearerTokenAuth"] == {"type": "http", "scheme": "bearer"}
    for path, ops in schema["paths"].items():
        for method, operation in ops.items():
            if method == "post":
                assert "Idempotency-Key" in operation["description"], path
            assert "401" in operation["responses"], (method, path)
            assert operation.get("security"), (method, path)


def test_ids_are_documented_as_strings(schema):
    candidate = schema["components"]["schemas"]["CandidateOut"]["properties"]

    assert candidate["id"]["type"] == "string"
    assert schema["components"]["schemas"]["ErrorOut"]


def test_the_docs_page_loads_everything_from_our_own_origin(db):
    client = Client()
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    assert all(asset.startswith("/static/") for asset in assets), assets
    assert not re.search(r"https?://", html)
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        body = b"".join(served.streaming_content) if served.streaming else served.content
        assert body, asset


def test_the_api_root_points_at_the_documents(db):
    response = Client().get("/api/v1/")

    assert response.status_code == 200
    assert response.json() == {"openapi": "/api/v1/openapi.json", "docs": "/api/v1/docs"}
