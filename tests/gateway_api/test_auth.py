"""Who may call what: bearer tokens, and functions visible only to their owner."""

import time
from typing import Any

import httpx
import jwt
import pytest

from tests.api import Account, create_function, register
from tests.harness import JWT_SECRET

NOT_FOUND = {"error": "function_not_found", "message": "Función no encontrada"}
BAD_HEADER = "Cabecera Authorization inválida: use 'Bearer <token>'"


def signed(claims: dict[str, Any], *, key: str = JWT_SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, None if alg == "none" else key, algorithm=alg)


def claims_for(username: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"sub": username, "iat": now, "exp": now + 600, "iss": "jetfaas"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def assert_unauthorized(response: httpx.Response, code: str, message: str) -> None:
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"error": code, "message": message}


def test_a_missing_authorization_header_is_401(bare_api: httpx.Client) -> None:
    response = bare_api.get("/functions")

    assert_unauthorized(response, "token_missing", "Falta el token de autorización")


@pytest.mark.parametrize("header", ["Token abc", "Bearer", "Basic dXNlcjpwYXNz"])
def test_a_header_that_is_not_a_bearer_token_is_401(
    bare_api: httpx.Client, header: str
) -> None:
    response = bare_api.get("/functions", headers={"Authorization": header})

    assert_unauthorized(response, "token_invalid", BAD_HEADER)


def test_the_bearer_scheme_is_case_insensitive(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    headers = {"Authorization": f"bearer {bare_account.token}"}

    response = bare_api.get("/functions", headers=headers)

    assert response.status_code == 200


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda user: "not.a.jwt", id="garbage"),
        pytest.param(
            lambda user: signed(claims_for(user), key="another-key-" * 4),
            id="forged",
        ),
        pytest.param(lambda user: signed(claims_for(user), alg="none"), id="alg-none"),
        pytest.param(
            lambda user: signed(claims_for(user), alg="HS512"),
            id="other-algorithm",
            marks=pytest.mark.filterwarnings(
                "ignore::jwt.warnings.InsecureKeyLengthWarning"
            ),
        ),
        pytest.param(
            lambda user: signed(claims_for(user, iss="someone-else")),
            id="wrong-issuer",
        ),
        pytest.param(lambda user: signed(claims_for(user, sub=None)), id="no-sub"),
        pytest.param(lambda user: signed(claims_for(user, sub="")), id="empty-sub"),
        pytest.param(lambda user: signed(claims_for(user, exp=None)), id="no-exp"),
        pytest.param(lambda user: signed(claims_for(user, iss=None)), id="no-iss"),
    ],
)
def test_a_foreign_or_incomplete_token_is_401(
    bare_api: httpx.Client, bare_account: Account, make_token: Any
) -> None:
    token = make_token(bare_account.username)

    response = bare_api.get("/functions", headers={"Authorization": f"Bearer {token}"})

    assert_unauthorized(response, "token_invalid", "Token inválido")


def test_an_expired_token_is_401_token_expired(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    past = int(time.time()) - 120
    token = signed(claims_for(bare_account.username, iat=past - 600, exp=past))

    response = bare_api.get("/functions", headers={"Authorization": f"Bearer {token}"})

    assert_unauthorized(response, "token_expired", "El token ha expirado")


def test_a_token_signed_with_the_shared_secret_is_accepted(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    """The secret alone authenticates: a well-formed token we sign ourselves works."""
    token = signed(claims_for(bare_account.username))

    response = bare_api.get("/functions", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/functions", {"code": "return 1"}),
        ("GET", "/functions/1", None),
        ("PUT", "/functions/1", {"name": "x"}),
        ("DELETE", "/functions/1", None),
        ("DELETE", "/functions/1/delete", None),
        ("POST", "/functions/1/execute", {"input": 1}),
        ("GET", "/invocations/abc", None),
    ],
)
def test_every_function_route_needs_a_token(
    bare_api: httpx.Client, method: str, path: str, body: Any
) -> None:
    response = bare_api.request(method, path, json=body)

    assert_unauthorized(response, "token_missing", "Falta el token de autorización")


@pytest.fixture
def others_function(bare_api: httpx.Client) -> int:
    """A function that belongs to somebody other than ``bare_account``."""
    return create_function(bare_api, register(bare_api), "return input + 1;")


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PUT", "", {"code": "return 0"}),
        ("POST", "/execute", {"input": 10}),
        ("DELETE", "", None),
        ("DELETE", "/delete", None),
    ],
)
def test_another_users_function_answers_404_like_an_unknown_one(
    bare_api: httpx.Client,
    bare_account: Account,
    others_function: int,
    method: str,
    suffix: str,
    body: Any,
) -> None:
    """Never 403: the answer must not reveal that the id exists."""
    path = f"/functions/{others_function}{suffix}"

    response = bare_api.request(method, path, json=body, headers=bare_account.headers)
    unknown = bare_api.request(
        method, f"/functions/987654321{suffix}", json=body, headers=bare_account.headers
    )

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert response.content == unknown.content


def test_another_user_cannot_change_or_delete_a_function(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    owner = register(bare_api)
    function_id = create_function(bare_api, owner, "return input + 1;")
    path = f"/functions/{function_id}"

    bare_api.put(path, json={"code": "return 0"}, headers=bare_account.headers)
    bare_api.delete(path, headers=bare_account.headers)
    bare_api.delete(path + "/delete", headers=bare_account.headers)
    response = bare_api.get(path, headers=owner.headers)

    assert response.status_code == 200
    assert response.json()["code"] == "return input + 1;"
    assert response.json()["version"] == 1


def test_another_users_function_is_not_listed(
    bare_api: httpx.Client, bare_account: Account, others_function: int
) -> None:
    response = bare_api.get("/functions", headers=bare_account.headers)

    assert response.status_code == 200
    assert others_function not in [f["id"] for f in response.json()]


def test_creating_a_function_for_another_user_is_403(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    body = {"user": "someone-else", "code": "return input + 1;"}

    response = bare_api.post("/functions", json=body, headers=bare_account.headers)

    assert response.status_code == 403
    assert response.json() == {
        "error": "wrong_user",
        "message": "No puede registrar funciones para otro usuario",
    }


def test_creating_a_function_naming_the_caller_as_user_is_accepted(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    """The original walkthrough sends the caller's own name in "user"."""
    body = {"user": bare_account.username, "code": "return input + 1;"}

    response = bare_api.post("/functions", json=body, headers=bare_account.headers)

    assert response.status_code == 201
    assert response.json()["owner"] == bare_account.username
