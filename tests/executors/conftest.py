"""Fixtures for the sandbox tests: one real sandbox per module, driven synchronously."""

import asyncio
import itertools
from collections.abc import Iterator

import pytest

from executors.sandbox import RunOutcome, Sandbox, SandboxLimits
from shared.models import Function

_function_ids = itertools.count(1_000)


def make_function(code: str, *, memory_mb: int = 128, version: int = 1) -> Function:
    """A function with an id no other test uses."""
    return Function(
        id=next(_function_ids),
        owner="alice",
        name="f",
        code=code,
        timeout_ms=2_000,
        memory_mb=memory_mb,
        created_at=0.0,
        updated_at=0.0,
        version=version,
    )


class SandboxCaller:
    """Runs calls on a module's sandbox from synchronous tests."""

    def __init__(self, runner: asyncio.Runner, sandbox: Sandbox) -> None:
        self.runner = runner
        self.sandbox = sandbox

    def run(
        self,
        function: Function,
        input_json: bytes = b"1",
        *,
        timeout_s: float = 2.0,
        capture_logs: bool = False,
    ) -> RunOutcome:
        return self.runner.run(
            self.sandbox.run(
                function, input_json, timeout_s=timeout_s, capture_logs=capture_logs
            )
        )

    def call(
        self,
        code: str,
        input_json: bytes = b"1",
        *,
        memory_mb: int = 128,
        timeout_s: float = 2.0,
        capture_logs: bool = False,
    ) -> RunOutcome:
        """Run ``code`` as a new function."""
        function = make_function(code, memory_mb=memory_mb)
        return self.run(
            function, input_json, timeout_s=timeout_s, capture_logs=capture_logs
        )

    @staticmethod
    def function(code: str, *, version: int = 1) -> Function:
        return make_function(code, version=version)

    def assert_served(self) -> None:
        """Another function still gets a correct answer."""
        outcome = self.call("return input + 1", b"41")
        assert (outcome.ok, outcome.result, outcome.error) == (True, b"42", None)

    def require_landlock(self) -> None:
        if not self.sandbox.landlock_abi:
            pytest.skip("Landlock is unavailable on this kernel: layer not tested")

    def require_seccomp(self) -> None:
        if not self.sandbox.seccomp_enabled:
            pytest.skip("seccomp (libseccomp) is unavailable: layer not tested")


@pytest.fixture(scope="module")
def sandbox_runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as runner:
        yield runner


@pytest.fixture(scope="module")
def sandbox(sandbox_runner: asyncio.Runner) -> Iterator[Sandbox]:
    sandbox = Sandbox(SandboxLimits(warm_workers=8, spare_workers=2))
    sandbox_runner.run(sandbox.start())
    yield sandbox
    sandbox_runner.run(sandbox.close())


@pytest.fixture
def caller(sandbox_runner: asyncio.Runner, sandbox: Sandbox) -> SandboxCaller:
    return SandboxCaller(sandbox_runner, sandbox)
