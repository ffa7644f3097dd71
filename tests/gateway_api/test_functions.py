"""Function definitions: create, list, read, change and delete over HTTP."""

import re
from typing import Any

import httpx
import pytest

from tests.api import Account, create_function, register

DELETED = '{"message":"Función eliminada"}'.encode()
NOT_FOUND = {"error": "function_not_found", "message": "Función no encontrada"}
MAX_CODE_BYTES = 65_536


def post_function(api: httpx.Client, account: Account, **body: Any) -> httpx.Response:
    return api.post("/functions", json=body, headers=account.headers)


def padded_code(size: int, *, filler: str = "x") -> str:
    """Valid code of exactly ``size`` bytes: a return and a long comment."""
    head = "return 1  # "
    count = (size - len(head.encode())) // len(filler.encode())
    return head + filler * count


def test_create_answers_201_in_the_original_shape(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    """The body starts like the original's: id, then code, a space after separators."""
    response = post_function(bare_api, bare_account, code="return input + 1;")

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert re.match(r'\{"id": \d+, "code": "return input \+ 1;"', response.text)


def test_create_fills_in_the_defaults(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    response = post_function(bare_api, bare_account, code="return input + 1;")

    body = response.json()
    assert body["name"] == f"function-{body['id']}"
    assert body["owner"] == bare_account.username
    assert body["runtime"] == "python"
    assert (body["timeout_ms"], body["memory_mb"], body["version"]) == (5000, 128, 1)
    assert body["created_at"] == body["updated_at"]


def test_create_keeps_the_given_name_timeout_and_memory(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    response = post_function(
        bare_api,
        bare_account,
        code="return input",
        name="echo",
        runtime="python",
        timeout_ms=250,
        memory_mb=64,
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["timeout_ms"], body["memory_mb"]) == ("echo", 250, 64)


def test_ids_grow_one_by_one(bare_api: httpx.Client, bare_account: Account) -> None:
    ids = [create_function(bare_api, bare_account, "return 1") for _ in range(3)]

    assert ids == [ids[0], ids[0] + 1, ids[0] + 2]


def test_list_shows_only_the_callers_functions_sorted_by_id(
    bare_api: httpx.Client,
) -> None:
    mine, theirs = register(bare_api), register(bare_api)
    first = create_function(bare_api, mine, "return 1")
    create_function(bare_api, theirs, "return 2")
    second = create_function(bare_api, mine, "return 3")

    response = bare_api.get("/functions", headers=mine.headers)

    assert response.status_code == 200
    listed = response.json()
    assert [f["id"] for f in listed] == [first, second]
    assert [f["code"] for f in listed] == ["return 1", "return 3"]
    assert {f["owner"] for f in listed} == {mine.username}


def test_list_is_empty_for_a_new_user(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    response = bare_api.get("/functions", headers=bare_account.headers)

    assert response.status_code == 200
    assert response.content == b"[]"


def test_get_answers_the_function_as_created(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    created = post_function(bare_api, bare_account, code="return input + 1;")

    response = bare_api.get(
        f"/functions/{created.json()['id']}", headers=bare_account.headers
    )

    assert response.status_code == 200
    assert response.content == created.content


def test_put_changes_code_name_and_timeout_and_bumps_the_version(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    function_id = create_function(bare_api, bare_account, "return input + 1;")
    path = f"/functions/{function_id}"
    change = {"code": "return input + 2", "name": "plus-two", "timeout_ms": 1000}

    response = bare_api.put(path, json=change, headers=bare_account.headers)

    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in change} == change
    assert (body["id"], body["version"], body["memory_mb"]) == (function_id, 2, 128)
    assert body["updated_at"] > body["created_at"]
    assert bare_api.get(path, headers=bare_account.headers).json() == body


def test_put_of_one_field_leaves_the_others(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    function_id = create_function(
        bare_api, bare_account, "return input", name="keep", timeout_ms=300
    )

    response = bare_api.put(
        f"/functions/{function_id}",
        json={"memory_mb": 256},
        headers=bare_account.headers,
    )

    body = response.json()
    assert (body["code"], body["name"], body["timeout_ms"]) == (
        "return input",
        "keep",
        300,
    )
    assert (body["memory_mb"], body["version"]) == (256, 2)


def test_put_with_bad_code_changes_nothing(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    function_id = create_function(bare_api, bare_account, "return input + 1;")
    path = f"/functions/{function_id}"

    response = bare_api.put(
        path, json={"code": "return (", "name": "broken"}, headers=bare_account.headers
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_code"
    current = bare_api.get(path, headers=bare_account.headers).json()
    assert (current["code"], current["version"]) == ("return input + 1;", 1)


@pytest.mark.parametrize("suffix", ["/delete", ""])
def test_delete_answers_the_original_bytes(
    bare_api: httpx.Client, bare_account: Account, suffix: str
) -> None:
    """The original prints this body without a space after the colon."""
    function_id = create_function(bare_api, bare_account, "return input + 1;")

    response = bare_api.delete(
        f"/functions/{function_id}{suffix}", headers=bare_account.headers
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == DELETED


@pytest.mark.parametrize("suffix", ["/delete", ""])
def test_a_deleted_function_is_gone(
    bare_api: httpx.Client, bare_account: Account, suffix: str
) -> None:
    function_id = create_function(bare_api, bare_account, "return input + 1;")
    path = f"/functions/{function_id}"
    bare_api.delete(path + suffix, headers=bare_account.headers)

    read = bare_api.get(path, headers=bare_account.headers)
    again = bare_api.delete(path + suffix, headers=bare_account.headers)
    listed = bare_api.get("/functions", headers=bare_account.headers)

    assert (read.status_code, read.json()) == (404, NOT_FOUND)
    assert (again.status_code, again.json()) == (404, NOT_FOUND)
    assert function_id not in [f["id"] for f in listed.json()]


def test_ids_are_not_reused_after_a_delete(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    first = create_function(bare_api, bare_account, "return 1")
    bare_api.delete(f"/functions/{first}", headers=bare_account.headers)

    second = create_function(bare_api, bare_account, "return 1")

    assert second == first + 1


@pytest.mark.parametrize(
    ("code", "line"),
    [
        ("x = 1\nreturn x +", 2),
        ("return (1", 1),
        ("a = 1\nb = 2\nreturn a b", 3),
        ("def handler(input):\n    return input +", 2),
    ],
)
def test_a_syntax_error_is_400_naming_the_users_line(
    bare_api: httpx.Client, bare_account: Account, code: str, line: int
) -> None:
    response = post_function(bare_api, bare_account, code=code)

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_code"
    assert body["message"].startswith("Error de sintaxis: ")
    assert body["message"].endswith(f"(line {line})")


def test_code_that_defines_its_own_handler_is_accepted_as_written(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    code = "import math\n\ndef handler(input):\n    return math.floor(input)\n"

    response = post_function(bare_api, bare_account, code=code)

    assert response.status_code == 201
    assert response.json()["code"] == code


@pytest.mark.parametrize("code", ["", "   ", "\n\t\n"])
def test_empty_code_is_400(
    bare_api: httpx.Client, bare_account: Account, code: str
) -> None:
    response = post_function(bare_api, bare_account, code=code)

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_code",
        "message": "El código está vacío",
    }


def test_code_over_the_limit_is_413(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    response = post_function(
        bare_api, bare_account, code=padded_code(MAX_CODE_BYTES + 1)
    )

    assert response.status_code == 413
    assert response.json() == {
        "error": "code_too_large",
        "message": "El código supera el límite de 65536 bytes",
    }


def test_code_limit_counts_bytes_not_characters(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    """Under the limit in characters, over it in UTF-8 bytes."""
    code = padded_code(MAX_CODE_BYTES + 2, filler="ñ")
    assert len(code) < MAX_CODE_BYTES

    response = post_function(bare_api, bare_account, code=code)

    assert response.status_code == 413
    assert response.json()["error"] == "code_too_large"


def test_code_at_the_limit_is_accepted(
    bare_api: httpx.Client, bare_account: Account
) -> None:
    code = padded_code(MAX_CODE_BYTES)
    assert len(code.encode()) == MAX_CODE_BYTES

    response = post_function(bare_api, bare_account, code=code)

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("field", "value", "error", "message"),
    [
        ("timeout_ms", 0, "invalid_timeout", "timeout_ms debe estar entre 1 y 60000"),
        (
            "timeout_ms",
            60_001,
            "invalid_timeout",
            "timeout_ms debe estar entre 1 y 60000",
        ),
        ("timeout_ms", -5, "invalid_timeout", "timeout_ms debe estar entre 1 y 60000"),
        ("memory_mb", 31, "invalid_memory", "memory_mb debe estar entre 32 y 1024"),
        ("memory_mb", 1025, "invalid_memory", "memory_mb debe estar entre 32 y 1024"),
    ],
)
def test_limits_out_of_range_are_400_naming_the_bounds(
    bare_api: httpx.Client,
    bare_account: Account,
    field: str,
    value: int,
    error: str,
    message: str,
) -> None:
    function_id = create_function(bare_api, bare_account, "return 1")

    created = post_function(bare_api, bare_account, code="return 1", **{field: value})
    changed = bare_api.put(
        f"/functions/{function_id}", json={field: value}, headers=bare_account.headers
    )

    for response in (created, changed):
        assert response.status_code == 400
        assert response.json() == {"error": error, "message": message}


@pytest.mark.parametrize(
    ("field", "value"),
    [("timeout_ms", 1), ("timeout_ms", 60_000), ("memory_mb", 32), ("memory_mb", 1024)],
)
def test_limits_at_their_bounds_are_accepted(
    bare_api: httpx.Client, bare_account: Account, field: str, value: int
) -> None:
    response = post_function(bare_api, bare_account, code="return 1", **{field: value})

    assert response.status_code == 201
    assert response.json()[field] == value


@pytest.mark.parametrize("name", ["", "n" * 129])
def test_a_name_outside_1_to_128_characters_is_400(
    bare_api: httpx.Client, bare_account: Account, name: str
) -> None:
    response = post_function(bare_api, bare_account, code="return 1", name=name)

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_name",
        "message": "name debe tener de 1 a 128 caracteres",
    }


@pytest.mark.parametrize("runtime", ["node", "Python", "python3", ""])
def test_a_runtime_other_than_python_is_400(
    bare_api: httpx.Client, bare_account: Account, runtime: str
) -> None:
    response = post_function(bare_api, bare_account, code="return 1", runtime=runtime)

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_body"
    assert "runtime" in body["message"]
