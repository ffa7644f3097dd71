"""The sandbox as the executor uses it: results, failures, logs, warm workers."""

import asyncio
import os

import msgspec

from executors.sandbox import RunOutcome, Sandbox, SandboxLimits
from tests.executors.conftest import SandboxCaller, make_function


def test_body_code_returns_its_json_result(caller: SandboxCaller) -> None:
    outcome = caller.call("return input + 1;", b"10")

    assert (outcome.ok, outcome.result, outcome.error, outcome.logs) == (
        True,
        b"11",
        None,
        None,
    )
    assert outcome.duration_s > 0


def test_code_defining_handler_is_used_as_written(caller: SandboxCaller) -> None:
    code = "import math\n\ndef handler(input):\n    return {'root': math.isqrt(input)}"

    outcome = caller.call(code, b"49")

    assert outcome.result == b'{"root":7}'


def test_exception_is_a_function_error_with_type_and_message(
    caller: SandboxCaller,
) -> None:
    outcome = caller.call("raise KeyError('missing')")

    assert (outcome.ok, outcome.error, outcome.message) == (
        False,
        "function_error",
        "KeyError: 'missing'",
    )


def test_syntax_error_names_the_users_line(caller: SandboxCaller) -> None:
    outcome = caller.call("x = 1\nreturn x +")

    assert outcome.error == "function_error"
    assert outcome.message is not None
    assert outcome.message.startswith("SyntaxError: invalid syntax (line 2)")


def test_error_while_loading_the_module_is_a_function_error(
    caller: SandboxCaller,
) -> None:
    outcome = caller.call("1 / 0\ndef handler(input):\n    return input")

    assert (outcome.error, outcome.message) == (
        "function_error",
        "ZeroDivisionError: division by zero",
    )


def test_logs_are_returned_only_when_asked(caller: SandboxCaller) -> None:
    function = caller.function("print('hello', input)\nreturn None")

    quiet = caller.run(function, b"1")
    loud = caller.run(function, b"2", capture_logs=True)

    assert (quiet.ok, quiet.result, quiet.logs) == (True, b"null", None)
    assert (loud.ok, loud.logs) == (True, "hello 2\n")


def test_function_error_keeps_its_logs(caller: SandboxCaller) -> None:
    outcome = caller.call("print('before')\nraise ValueError('x')", capture_logs=True)

    assert (outcome.error, outcome.logs) == ("function_error", "before\n")


def test_second_call_reuses_the_warm_worker(caller: SandboxCaller) -> None:
    function = caller.function("import os\nreturn os.getpid()")
    first = caller.run(function)
    cold_starts = caller.sandbox.stats().cold_starts

    second = caller.run(function)

    assert first.result == second.result
    assert caller.sandbox.stats().cold_starts == cold_starts


def test_worker_keeps_module_state_between_calls(caller: SandboxCaller) -> None:
    function = caller.function(
        "calls = 0\n"
        "def handler(input):\n"
        "    global calls\n"
        "    calls += 1\n"
        "    return calls"
    )

    results = [caller.run(function).result for _ in range(3)]

    assert results == [b"1", b"2", b"3"]


def test_concurrent_calls_of_one_function_get_separate_workers(
    caller: SandboxCaller,
) -> None:
    function = caller.function("import os, time\ntime.sleep(0.2)\nreturn os.getpid()")

    async def twice() -> list[RunOutcome]:
        calls = [caller.sandbox.run(function, b"1", timeout_s=2) for _ in range(2)]
        return await asyncio.gather(*calls)

    first, second = caller.runner.run(twice())

    assert first.ok and second.ok
    assert first.result != second.result


def test_new_version_retires_workers_of_the_old_code(caller: SandboxCaller) -> None:
    old = caller.function("return 'old'", version=1)
    new = msgspec.structs.replace(old, code="return 'new'", version=2)
    assert caller.run(old).result == b'"old"'

    outcome = caller.run(new)

    assert outcome.result == b'"new"'


def test_timeout_covers_a_module_that_never_finishes_loading(
    caller: SandboxCaller,
) -> None:
    outcome = caller.call(
        "while True:\n    pass\ndef handler(input):\n    return 1", timeout_s=0.3
    )

    assert (outcome.error, outcome.message) == (
        "timeout",
        "function exceeded its 0.3 s timeout",
    )


def test_stats_report_workers_and_their_memory(caller: SandboxCaller) -> None:
    caller.call("return 1")

    stats = caller.sandbox.stats()

    assert stats.warm_workers >= 1
    assert stats.spare_workers <= caller.sandbox.limits.spare_workers
    assert stats.cold_starts >= 1
    workers = stats.warm_workers + stats.spare_workers
    assert stats.memory_bytes / workers > 1_000_000


def test_least_recently_used_workers_are_recycled_past_the_bound() -> None:
    functions = [make_function(f"return {n}") for n in range(4)]

    async def scenario() -> tuple[int, int, int]:
        sandbox = Sandbox(SandboxLimits(warm_workers=2, spare_workers=0))
        await sandbox.start()
        try:
            for function in functions:
                await sandbox.run(function, b"1", timeout_s=2)
            stats = sandbox.stats()
            await sandbox.run(functions[-1], b"1", timeout_s=2)
            warm_hit = sandbox.stats().cold_starts
            await sandbox.run(functions[0], b"1", timeout_s=2)
            return (
                stats.warm_workers,
                stats.recycled,
                sandbox.stats().cold_starts - warm_hit,
            )
        finally:
            await sandbox.close()

    warm, recycled, cold_again = asyncio.run(scenario())

    assert (warm, recycled, cold_again) == (2, 2, 1)


def test_close_kills_every_worker_and_the_zygote() -> None:
    async def scenario() -> list[int]:
        sandbox = Sandbox(SandboxLimits(spare_workers=1))
        await sandbox.start()
        outcome = await sandbox.run(
            make_function("import os\nreturn os.getpid()"), b"1", timeout_s=2
        )
        assert sandbox.zygote_pid is not None
        pids = [int(outcome.result), sandbox.zygote_pid]
        await sandbox.close()
        return pids

    for pid in asyncio.run(scenario()):
        assert not os.path.exists(f"/proc/{pid}")


def test_run_before_start_reports_the_sandbox_unavailable() -> None:
    outcome = asyncio.run(Sandbox().run(make_function("return 1"), b"1", timeout_s=1))

    assert (outcome.ok, outcome.error, outcome.message) == (
        False,
        "sandbox_unavailable",
        "the sandbox is not started",
    )
