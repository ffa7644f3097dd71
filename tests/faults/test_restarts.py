"""nats-server and the gateway restarted under load: nothing lost, nothing hangs."""

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.api import Account, create_function, execute, register
from tests.cluster import stop_with
from tests.faults.probes import (
    Call,
    Load,
    assert_every_call_accounted_for,
    events,
    report,
)
from tests.harness import Stack, wait_for

# A function timeout of 1 s plus 2 s in the queue: the caller's deadline.
_ENV = {"FAAS_DISPATCH_WAIT_MS": "2000"}
_DEADLINE_S = 3.0
_OUTAGE_S = 2.0


def _login(api: httpx.Client, account: Account) -> httpx.Response:
    credentials = {"username": account.username, "password": account.password}
    return api.post("/auth/login", json=credentials)


def _slow_call(api: httpx.Client, account: Account, function_id: int) -> list[Call]:
    """Start a call that is running when the server goes away; its outcome later."""
    calls: list[Call] = []

    def call() -> None:
        started = time.monotonic()
        response = execute(api, account, function_id, 41)
        calls.append(
            Call(
                41,
                started,
                time.monotonic(),
                response.status_code,
                response.json(),
                response.headers.get("retry-after"),
            )
        )

    threading.Thread(target=call, daemon=True).start()
    return calls


@pytest.mark.slow
@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGKILL], ids=["term", "kill"]
)
def test_nats_server_restart_keeps_everything_and_fails_calls_cleanly(
    tmp_path: Path, signum: int
) -> None:
    with Stack(tmp_path, executors=2, env=_ENV) as stack:
        api = httpx.Client(base_url=stack.base_url, timeout=30)
        alice, bob = register(api), register(api)
        adder = create_function(api, alice, "return input + 1", timeout_ms=1000)
        slow = create_function(
            api, alice, "import time\ntime.sleep(1)\nreturn input", timeout_ms=1000
        )
        doubler = create_function(api, bob, "return input * 2", timeout_ms=1000)

        with Load(stack.base_url, alice, adder, clients=2, pause_s=0.05) as load:
            wait_for(lambda: len(load.calls) >= 10, timeout_s=30, what="load")
            in_flight = _slow_call(api, alice, slow)
            time.sleep(0.3)
            stop_with(stack.nats, signum)

            down = time.monotonic()
            ready = httpx.get(stack.base_url + "/readyz", timeout=10)
            assert ready.status_code == 503
            assert time.monotonic() - down < 2
            refused = _login(api, bob)
            assert refused.status_code == 503, refused.text
            assert refused.headers["retry-after"] == "1"

            time.sleep(max(0.0, _OUTAGE_S - (time.monotonic() - down)))
            stack.nats.start()
            up = time.monotonic()
            wait_for(
                lambda: bool(load.successes_after(up)),
                timeout_s=30,
                what="a call served after the restart",
            )
            recovered_s = min(c.finished for c in load.successes_after(up)) - up
            time.sleep(1)

        assert_every_call_accounted_for(load.calls, longest_s=_DEADLINE_S + 5)
        wait_for(lambda: bool(in_flight), timeout_s=_DEADLINE_S + 5, what="slow")
        slow_call = in_flight[0]
        assert (slow_call.status, slow_call.body) in (
            (200, {"result": 41}),
            (504, slow_call.body | {"error": "deadline_exceeded"}),
        ), slow_call
        assert "Traceback" not in stack.gateway.output()
        assert not events(stack.gateway.output(), "request_failed")

        # Users, functions and the executors' copy of them survived.
        assert _login(api, bob).status_code == 200
        assert [
            f["id"] for f in api.get("/functions", headers=alice.headers).json()
        ] == [
            adder,
            slow,
        ]
        assert execute(api, bob, doubler, 21).json() == {"result": 42}
        changed = api.put(
            f"/functions/{doubler}",
            json={"code": "return input * 3"},
            headers=bob.headers,
        )
        assert changed.status_code == 200
        wait_for(
            lambda: execute(api, bob, doubler, 2).json() == {"result": 6},
            timeout_s=10,
            what="the changed function on the executors",
        )
        report(
            "nats_restart",
            signal=signal.Signals(signum).name,
            recovered_s=round(recovered_s, 2),
            calls=len(load.calls),
            statuses=sorted({c.status for c in load.calls}),
        )


@pytest.mark.slow
def test_a_killed_gateway_comes_back_with_every_user_and_function(
    tmp_path: Path,
) -> None:
    with Stack(tmp_path, executors=1) as stack:
        api = httpx.Client(base_url=stack.base_url, timeout=30)
        account = register(api)
        function_id = create_function(api, account, "return input + 1")
        assert execute(api, account, function_id, 1).json() == {"result": 2}

        stack.gateway.kill()
        stack.gateway.start()
        stack.wait_gateway_ready()

        assert _login(api, account).status_code == 200
        listed = api.get("/functions", headers=account.headers).json()
        assert [f["id"] for f in listed] == [function_id]
        assert execute(api, account, function_id, 2).json() == {"result": 3}


@pytest.mark.slow
def test_a_call_whose_acknowledgement_is_late_waits_for_its_one_answer(
    tmp_path: Path,
) -> None:
    """nats-server frozen past two publish timeouts: the invocation may be queued,
    so the gateway waits for its answer instead of inviting a retry."""
    with Stack(tmp_path, executors=1) as stack:
        api = httpx.Client(base_url=stack.base_url, timeout=30)
        account = register(api)
        function_id = create_function(api, account, "return input * 3")
        assert execute(api, account, function_id, 1).json() == {"result": 3}

        answers: list[httpx.Response] = []
        caller = threading.Thread(
            target=lambda: answers.append(execute(api, account, function_id, 14))
        )
        stack.nats.signal(signal.SIGSTOP)
        try:
            caller.start()
            # Two publish attempts of 2 s each go unacknowledged meanwhile.
            wait_for(
                lambda: "invocation_publish_unconfirmed" in stack.gateway.output(),
                timeout_s=10,
                what="the gateway giving up on the acknowledgement",
            )
        finally:
            stack.nats.signal(signal.SIGCONT)
        caller.join(30)

        def runs() -> list[dict[str, object]]:
            return events(stack.executors[0].output(), "invocation_completed")

        wait_for(lambda: len(runs()) >= 2, timeout_s=5, what="the run logged")
        time.sleep(0.5)
        completed = runs()

    assert [a.status_code for a in answers] == [200]
    assert answers[0].json() == {"result": 42}
    assert len(completed) == 2, "the first call and the frozen one, each run once"
