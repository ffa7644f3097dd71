"""Executing functions through the whole stack: HTTP, JetStream, executor, inbox."""

import time

import httpx

from tests.api import Account, create_function, execute


def test_execute_returns_the_result_of_the_function(
    api: httpx.Client, account: Account
) -> None:
    function_id = create_function(api, account, "return input + 1;")

    response = execute(api, account, function_id, 10)

    assert (response.status_code, response.text) == (200, '{"result": 11}')


def test_execute_passes_any_json_value_through(
    api: httpx.Client, account: Account
) -> None:
    code = "keys = sorted(input) if isinstance(input, dict) else None\n"
    code += "return {'echo': input, 'keys': keys}"
    function_id = create_function(api, account, code)
    value = {"b": [1, 2.5, None, True], "a": "ñandú"}

    response = execute(api, account, function_id, value)

    assert response.status_code == 200
    assert response.json() == {"result": {"echo": value, "keys": ["a", "b"]}}


def test_function_defining_its_own_handler_is_used_as_written(
    api: httpx.Client, account: Account
) -> None:
    code = "import math\n\ndef handler(input):\n    return math.factorial(input)\n"
    function_id = create_function(api, account, code)

    assert execute(api, account, function_id, 5).json() == {"result": 120}


def test_function_that_raises_answers_422_with_type_and_message(
    api: httpx.Client, account: Account
) -> None:
    function_id = create_function(api, account, "return input / 0")

    response = execute(api, account, function_id, 1)

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "function_error"
    assert body["message"].startswith("ZeroDivisionError")
    assert "division by zero" in body["message"]


def test_endless_loop_answers_504_within_its_timeout_and_executor_keeps_serving(
    api: httpx.Client, account: Account
) -> None:
    looping = create_function(api, account, "while True:\n    pass", timeout_ms=500)
    healthy = create_function(api, account, "return input * 2")

    started = time.monotonic()
    response = execute(api, account, looping, 0)
    elapsed = time.monotonic() - started

    assert response.status_code == 504
    assert response.json()["error"] == "timeout"
    assert elapsed < 5
    assert execute(api, account, healthy, 21).json() == {"result": 42}


def test_result_that_is_not_json_is_a_clear_error(
    api: httpx.Client, account: Account
) -> None:
    function_id = create_function(api, account, "return object()")

    response = execute(api, account, function_id, None)

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_result"


def test_printed_output_is_returned_only_when_asked(
    api: httpx.Client, account: Account
) -> None:
    function_id = create_function(api, account, "print('hola', input)\nreturn input")

    quiet = execute(api, account, function_id, 7)
    loud = execute(api, account, function_id, 7, logs="true")

    assert quiet.json() == {"result": 7}
    assert loud.json() == {"result": 7, "logs": "hola 7\n"}


def test_updated_code_is_what_runs_next(api: httpx.Client, account: Account) -> None:
    function_id = create_function(api, account, "return 'old'")
    assert execute(api, account, function_id, None).json() == {"result": "old"}

    response = api.put(
        f"/functions/{function_id}",
        json={"code": "return 'new'"},
        headers=account.headers,
    )
    assert response.status_code == 200

    assert execute(api, account, function_id, None).json() == {"result": "new"}


def test_async_execution_is_accepted_then_its_record_shows_the_result(
    api: httpx.Client, account: Account
) -> None:
    function_id = create_function(api, account, "return input + 1")

    accepted = execute(api, account, function_id, 41, mode="async")
    assert accepted.status_code == 202
    invocation_id = accepted.json()["invocation_id"]

    record: dict[str, object] = {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        record = api.get(
            f"/invocations/{invocation_id}", headers=account.headers
        ).json()
        if record["status"] not in ("queued", "running"):
            break
        time.sleep(0.05)

    assert record["status"] == "succeeded"
    assert record["result"] == 42


def test_async_record_of_another_user_is_404(
    api: httpx.Client, account: Account, other_account: Account
) -> None:
    function_id = create_function(api, account, "return 1")
    invocation_id = execute(api, account, function_id, 0, mode="async").json()[
        "invocation_id"
    ]

    response = api.get(f"/invocations/{invocation_id}", headers=other_account.headers)

    assert response.status_code == 404
    assert response.json()["error"] == "invocation_not_found"
