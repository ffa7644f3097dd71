"""Liveness, readiness, Prometheus metrics and the OpenAPI schema."""

import re

import httpx

from tests.api import Account, create_function

FUNCTION_ROUTE = re.compile(r"/functions/\{function_id(:str)?\}")


def test_healthz_answers_200_ok(bare_api: httpx.Client) -> None:
    response = bare_api.get("/healthz")

    assert response.status_code == 200
    assert response.content == b'{"status": "ok"}'


def test_readyz_answers_200_when_nats_and_the_stream_are_there(
    bare_api: httpx.Client,
) -> None:
    response = bare_api.get("/readyz")

    assert response.status_code == 200
    assert response.content == b'{"status": "ready"}'


def test_health_checks_need_no_token(bare_api: httpx.Client) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/schema/openapi.json"):
        assert bare_api.get(path).status_code == 200, path


def test_metrics_are_in_the_prometheus_text_format(bare_api: httpx.Client) -> None:
    bare_api.get("/healthz")

    response = bare_api.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert "# TYPE faas_http_requests_total counter" in response.text
    assert "# TYPE faas_http_request_duration_seconds histogram" in response.text
    assert re.search(
        r'^faas_http_requests_total\{method="GET",route="/healthz",status="200"\} '
        r"\d+\.0$",
        response.text,
        re.MULTILINE,
    )


def test_metrics_content_type_names_its_charset_once(bare_api: httpx.Client) -> None:
    response = bare_api.get("/metrics")

    assert response.headers["content-type"].count("charset") == 1


def test_metrics_count_a_request_by_status(bare_api: httpx.Client) -> None:
    """A counter grows by exactly one for each request of its labels."""
    line = re.compile(
        r'^faas_http_requests_total\{method="GET",route="/readyz",status="200"\} '
        r"(\d+)\.0$",
        re.MULTILINE,
    )
    bare_api.get("/readyz")
    before = line.search(bare_api.get("/metrics").text)
    assert before is not None

    bare_api.get("/readyz")
    after = line.search(bare_api.get("/metrics").text)

    assert after is not None
    assert int(after.group(1)) == int(before.group(1)) + 1


def test_metrics_label_routes_by_template_never_by_id(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    function_id = create_function(bare_api, bare_account, "return 1")
    bare_api.get(f"/functions/{function_id}", headers=bare_account.headers)
    bare_api.get("/functions/424242424", headers=bare_account.headers)

    text = bare_api.get("/metrics").text

    routes = set(re.findall(r'route="([^"]*)"', text))
    assert any(FUNCTION_ROUTE.fullmatch(route) for route in routes)
    assert not [route for route in routes if re.search(r"/\d", route)]
    assert "424242424" not in text


def test_openapi_schema_lists_the_api_paths(bare_api: httpx.Client) -> None:
    response = bare_api.get("/schema/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths) >= {
        "/auth/register",
        "/auth/login",
        "/functions",
        "/functions/{function_id}",
        "/functions/{function_id}/delete",
        "/functions/{function_id}/execute",
        "/invocations/{invocation_id}",
        "/healthz",
        "/readyz",
    }
    assert set(paths["/functions/{function_id}"]) >= {"get", "put", "delete"}
    assert "post" in paths["/functions/{function_id}/execute"]
