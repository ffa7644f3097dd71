"""Registration and login: the original contract's bodies and the account rules."""

import itertools
import os
import time

import httpx
import jwt
import pytest

from tests.api import register
from tests.harness import JWT_SECRET

_serial = itertools.count(1)


def unique_name(prefix: str = "u") -> str:
    return f"{prefix}{os.getpid()}-{next(_serial)}"


def credentials(username: str, password: str = "password123") -> dict[str, str]:
    return {"username": username, "password": password}


def test_register_answers_201_with_the_original_message(
    bare_api: httpx.Client,
) -> None:
    """The body is the original walkthrough's, byte for byte."""
    response = bare_api.post("/auth/register", json=credentials(unique_name()))

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"message": "Usuario registrado exitosamente"}'


def test_register_answers_409_for_a_taken_name(bare_api: httpx.Client) -> None:
    name = unique_name()
    bare_api.post("/auth/register", json=credentials(name))

    response = bare_api.post("/auth/register", json=credentials(name, "another-pass"))

    assert response.status_code == 409
    assert response.json() == {
        "error": "username_taken",
        "message": "El nombre de usuario ya está registrado",
    }


def test_register_keeps_the_first_password_of_a_taken_name(
    bare_api: httpx.Client,
) -> None:
    """A second registration of the same name does not replace the account."""
    name = unique_name()
    bare_api.post("/auth/register", json=credentials(name))
    bare_api.post("/auth/register", json=credentials(name, "another-pass"))

    response = bare_api.post("/auth/login", json=credentials(name, "another-pass"))

    assert response.status_code == 401


@pytest.mark.parametrize(
    "username",
    ["ab", "x" * 65, "with space", "semi;colon", "naïve-name", "a/b", "a*b", ""],
)
def test_register_refuses_a_username_that_breaks_the_rule(
    bare_api: httpx.Client, username: str
) -> None:
    response = bare_api.post("/auth/register", json=credentials(username))

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_username"
    assert "3 a 64 caracteres" in body["message"]


@pytest.mark.parametrize("username", ["z9_", f"long{os.getpid()}-".ljust(64, "x")])
def test_register_accepts_usernames_at_the_length_bounds(
    bare_api: httpx.Client, username: str
) -> None:
    response = bare_api.post("/auth/register", json=credentials(username))

    assert response.status_code == 201, response.text


def test_register_accepts_letters_digits_underscore_dot_and_dash(
    bare_api: httpx.Client,
) -> None:
    name = unique_name("Mixed_Case.") + "-9"

    response = bare_api.post("/auth/register", json=credentials(name))

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("pattern", [".lead{}", "trail{}.", "dou..ble{}"])
def test_register_never_fails_with_500_for_names_with_dots(
    bare_api: httpx.Client, pattern: str
) -> None:
    """A name made of allowed characters is either registered or refused by rule."""
    username = pattern.format(os.getpid())

    response = bare_api.post("/auth/register", json=credentials(username))

    assert response.status_code in (201, 400), response.text
    if response.status_code == 400:
        assert response.json()["error"] == "invalid_username"


@pytest.mark.parametrize("password", ["1234567", "p" * 1025, ""])
def test_register_refuses_a_password_outside_8_to_1024_characters(
    bare_api: httpx.Client, password: str
) -> None:
    response = bare_api.post(
        "/auth/register", json=credentials(unique_name(), password)
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_password",
        "message": "La contraseña debe tener de 8 a 1024 caracteres",
    }


@pytest.mark.parametrize("password", ["12345678", "p" * 1024])
def test_register_accepts_passwords_at_the_length_bounds(
    bare_api: httpx.Client, password: str
) -> None:
    name = unique_name()
    response = bare_api.post("/auth/register", json=credentials(name, password))
    assert response.status_code == 201, response.text

    response = bare_api.post("/auth/login", json=credentials(name, password))

    assert response.status_code == 200, response.text


def test_login_answers_200_with_only_a_token(bare_api: httpx.Client) -> None:
    name = unique_name()
    bare_api.post("/auth/register", json=credentials(name))

    response = bare_api.post("/auth/login", json=credentials(name))

    assert response.status_code == 200
    assert list(response.json()) == ["token"]
    assert response.text.startswith('{"token": "')


def test_login_token_names_the_user_the_issuer_and_its_lifetime(
    bare_api: httpx.Client,
) -> None:
    account = register(bare_api, unique_name())

    claims = jwt.decode(
        account.token, JWT_SECRET, algorithms=["HS256"], issuer="jetfaas"
    )

    assert set(claims) == {"sub", "iat", "exp", "iss"}
    assert claims["sub"] == account.username
    assert abs(claims["iat"] - time.time()) < 60
    assert claims["exp"] - claims["iat"] == 3600


def test_login_answers_401_for_a_wrong_password(bare_api: httpx.Client) -> None:
    name = unique_name()
    bare_api.post("/auth/register", json=credentials(name))

    response = bare_api.post("/auth/login", json=credentials(name, "wrong-password"))

    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_credentials",
        "message": "Usuario o contraseña incorrectos",
    }


@pytest.mark.parametrize("username", ["nobody-registered-this", "x", "a b"])
def test_login_answers_401_for_an_unknown_user(
    bare_api: httpx.Client, username: str
) -> None:
    """Unknown and impossible names get the same answer as a wrong password."""
    response = bare_api.post("/auth/login", json=credentials(username))

    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_credentials",
        "message": "Usuario o contraseña incorrectos",
    }
