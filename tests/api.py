"""Calling the platform's HTTP API from tests, the way a user would."""

import itertools
import os
from dataclasses import dataclass
from typing import Any

import httpx

_names = itertools.count(1)


@dataclass(frozen=True)
class Account:
    """A registered, logged-in user."""

    username: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def register(api: httpx.Client, username: str | None = None) -> Account:
    """Register and log in a new user through the API."""
    username = username or f"user{os.getpid()}-{next(_names)}"
    password = "password123"
    credentials = {"username": username, "password": password}
    response = api.post("/auth/register", json=credentials)
    assert response.status_code == 201, response.text
    response = api.post("/auth/login", json=credentials)
    assert response.status_code == 200, response.text
    return Account(username, password, response.json()["token"])


def create_function(
    api: httpx.Client, account: Account, code: str, **fields: Any
) -> int:
    """Register ``code`` for ``account`` and return the new function's id."""
    response = api.post(
        "/functions", json={"code": code, **fields}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    function_id: int = response.json()["id"]
    return function_id


def execute(
    api: httpx.Client, account: Account, function_id: int, value: Any, **params: Any
) -> httpx.Response:
    return api.post(
        f"/functions/{function_id}/execute",
        json={"input": value},
        headers=account.headers,
        params=params,
    )
