"""Malformed requests: each gets a clear JSON error and the gateway keeps serving."""

from collections.abc import Iterator

import httpx
import pytest

from tests.api import Account, create_function

JSON = {"Content-Type": "application/json"}
TOO_LARGE = {
    "error": "payload_too_large",
    "message": "El cuerpo de la solicitud es demasiado grande",
}
INVALID_ID = {
    "error": "invalid_id",
    "message": "El id de la función debe ser un entero positivo",
}


@pytest.fixture(autouse=True)
def still_serving(bare_api: httpx.Client) -> Iterator[None]:
    """Whatever a test sent, the gateway answers its health check afterwards."""
    yield
    response = bare_api.get("/healthz")
    assert response.status_code == 200


def assert_error(response: httpx.Response, status: int, code: str) -> str:
    """Check the one error shape; return the message for further checks."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["error", "message"]
    assert body["error"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    message: str = body["message"]
    return message


@pytest.fixture
def own_function(bare_api: httpx.Client, bare_account: Account) -> int:
    return create_function(bare_api, bare_account, "return input + 1;")


@pytest.mark.parametrize(
    "body",
    [
        b"{bad",
        b'{"username": "abc", "password": ',
        b"'single'",
        b'{"username": "abc",}',
    ],
)
def test_malformed_json_is_400_invalid_json(
    bare_api: httpx.Client, body: bytes
) -> None:
    response = bare_api.post("/auth/register", content=body, headers=JSON)

    message = assert_error(response, 400, "invalid_json")
    assert message.startswith("JSON mal formado: ")


@pytest.mark.parametrize("body", [b"", b"   ", b"\n"])
def test_an_empty_body_is_400_invalid_json(
    bare_api: httpx.Client, bare_account: Account, body: bytes
) -> None:
    headers = {**JSON, **bare_account.headers}

    response = bare_api.post("/functions", content=body, headers=headers)

    assert response.json() == {
        "error": "invalid_json",
        "message": "Falta el cuerpo JSON",
    }
    assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize(
    ("body", "names"),
    [
        (b'{"username": 1, "password": "password123"}', "$.username"),
        (b'{"username": "abcd", "password": ["x"]}', "$.password"),
        (b'{"username": "abcd"}', "`password`"),
        (b"[]", "`object`"),
        (b'"text"', "`object`"),
        (b"null", "`object`"),
    ],
)
def test_a_body_of_the_wrong_shape_is_400_naming_what_is_wrong(
    bare_api: httpx.Client, body: bytes, names: str
) -> None:
    response = bare_api.post("/auth/register", content=body, headers=JSON)

    message = assert_error(response, 400, "invalid_body")
    assert names in message


def test_a_wrong_type_in_a_function_body_is_400(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    body = {"code": "return 1", "timeout_ms": "fast"}

    response = bare_api.post("/functions", json=body, headers=bare_account.headers)

    message = assert_error(response, 400, "invalid_body")
    assert "$.timeout_ms" in message


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/register", {"username": "abcd", "password": "password123", "x": 1}),
        ("/auth/login", {"username": "abcd", "password": "password123", "x": 1}),
        ("/functions", {"code": "return 1", "language": "python"}),
    ],
)
def test_unknown_fields_are_400_naming_the_field(
    bare_api: httpx.Client, bare_account: Account, path: str, body: object
) -> None:
    response = bare_api.post(path, json=body, headers=bare_account.headers)

    message = assert_error(response, 400, "invalid_body")
    assert "unknown field" in message


def test_unknown_fields_in_an_update_are_400(
    bare_api: httpx.Client, bare_account: Account, own_function: int
) -> None:
    response = bare_api.put(
        f"/functions/{own_function}",
        json={"runtime": "python"},
        headers=bare_account.headers,
    )

    message = assert_error(response, 400, "invalid_body")
    assert "`runtime`" in message


def test_execute_without_input_is_400(
    bare_api: httpx.Client, bare_account: Account, own_function: int
) -> None:
    response = bare_api.post(
        f"/functions/{own_function}/execute", json={}, headers=bare_account.headers
    )

    message = assert_error(response, 400, "invalid_body")
    assert "`input`" in message


def test_execute_with_extra_fields_is_400(
    bare_api: httpx.Client, bare_account: Account, own_function: int
) -> None:
    response = bare_api.post(
        f"/functions/{own_function}/execute",
        json={"input": 1, "timeout": 5},
        headers=bare_account.headers,
    )

    assert_error(response, 400, "invalid_body")


def test_execute_with_an_unknown_mode_is_400(
    bare_api: httpx.Client, bare_account: Account, own_function: int
) -> None:
    response = bare_api.post(
        f"/functions/{own_function}/execute",
        json={"input": 1},
        params={"mode": "later"},
        headers=bare_account.headers,
    )

    assert_error(response, 400, "invalid_request")


def test_a_body_that_is_not_json_is_400(bare_api: httpx.Client) -> None:
    response = bare_api.post(
        "/auth/login",
        content=b"username=abcd&password=password123",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize("path", ["/auth/register", "/functions"])
def test_a_body_over_one_mebibyte_is_413(
    bare_api: httpx.Client, bare_account: Account, path: str
) -> None:
    body = b'{"code": "' + b"x" * 1_200_000 + b'"}'
    headers = {**JSON, **bare_account.headers}

    response = bare_api.post(path, content=body, headers=headers)

    assert response.json() == TOO_LARGE
    assert_error(response, 413, "payload_too_large")


def test_an_execute_body_over_one_mebibyte_is_413(
    bare_api: httpx.Client, bare_account: Account, own_function: int
) -> None:
    body = {"input": "x" * 1_200_000}

    response = bare_api.post(
        f"/functions/{own_function}/execute", json=body, headers=bare_account.headers
    )

    assert response.json() == TOO_LARGE


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("PUT", ""), ("DELETE", ""), ("DELETE", "/delete")],
)
def test_an_unknown_function_id_is_404(
    bare_api: httpx.Client, bare_account: Account, method: str, suffix: str
) -> None:
    response = bare_api.request(
        method,
        f"/functions/999999999{suffix}",
        json={"name": "x"} if method == "PUT" else None,
        headers=bare_account.headers,
    )

    assert response.json() == {
        "error": "function_not_found",
        "message": "Función no encontrada",
    }
    assert_error(response, 404, "function_not_found")


def test_executing_an_unknown_function_id_is_404(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    response = bare_api.post(
        "/functions/999999999/execute", json={"input": 1}, headers=bare_account.headers
    )

    assert_error(response, 404, "function_not_found")


@pytest.mark.parametrize("function_id", ["abc", "0", "-1", "1.5", "1e3", "0x10"])
@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("DELETE", "/delete"), ("POST", "/execute")],
)
def test_an_id_that_is_not_a_positive_integer_is_400(
    bare_api: httpx.Client,
    bare_account: Account,
    function_id: str,
    method: str,
    suffix: str,
) -> None:
    response = bare_api.request(
        method,
        f"/functions/{function_id}{suffix}",
        json={"input": 1} if method == "POST" else None,
        headers=bare_account.headers,
    )

    assert response.json() == INVALID_ID
    assert_error(response, 400, "invalid_id")


def test_an_id_of_unicode_digits_is_400(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    response = bare_api.get("/functions/²", headers=bare_account.headers)

    assert response.json() == INVALID_ID
    assert_error(response, 400, "invalid_id")


def test_an_unknown_route_is_404_json(bare_api: httpx.Client) -> None:
    response = bare_api.get("/no/such/route")

    assert response.json() == {"error": "not_found", "message": "Ruta no encontrada"}
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/auth/register", {"POST", "OPTIONS"}),
        ("PATCH", "/functions", {"GET", "POST", "OPTIONS"}),
        ("GET", "/functions/1/execute", {"POST", "OPTIONS"}),
    ],
)
def test_a_wrong_method_is_405_json(
    bare_api: httpx.Client, method: str, path: str, allowed: set[str]
) -> None:
    response = bare_api.request(method, path)

    assert response.json() == {
        "error": "method_not_allowed",
        "message": "Método no permitido",
    }
    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].replace(" ", "").split(",")) == allowed
