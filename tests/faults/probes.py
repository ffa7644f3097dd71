"""Helpers of the fault tests: log events, steady load, and process inspection."""

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.api import Account, execute
from tests.harness import Process


def events(output: str, name: str, **fields: Any) -> list[dict[str, Any]]:
    """The JSON log events called ``name`` whose fields include ``fields``."""
    found = []
    for line in output.splitlines():
        if not line.startswith("{") or f'"{name}"' not in line:
            continue
        event = json.loads(line)
        if event.get("event") != name:
            continue
        if all(event.get(key) == value for key, value in fields.items()):
            found.append(event)
    return found


def busy_slots(executor: Process) -> float:
    """The executor's ``faas_executor_busy_slots`` gauge, from its metrics port."""
    port = executor.metrics_port  # type: ignore[attr-defined]
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.HTTPError:
        return 0.0
    for line in text.splitlines():
        if line.startswith("faas_executor_busy_slots "):
            return float(line.split()[1])
    return 0.0


@dataclass(frozen=True)
class Call:
    """One synchronous call made by the load: what was sent and what came back."""

    value: int
    started: float
    finished: float
    status: int
    body: dict[str, Any]
    retry_after: str | None


@dataclass
class Load:
    """Clients calling ``return input + 1`` in a loop, each value used once."""

    base_url: str
    account: Account
    function_id: int
    clients: int = 3
    pause_s: float = 0.02
    calls: list[Call] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next: int = 0

    def __enter__(self) -> "Load":
        for _ in range(self.clients):
            thread = threading.Thread(target=self._client, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def successes_after(self, moment: float) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.status == 200 and c.started >= moment]

    def _value(self) -> int:
        with self._lock:
            self._next += 1
            return self._next

    def _client(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=60) as api:
            while not self._stop.is_set():
                value = self._value()
                started = time.monotonic()
                try:
                    response = execute(api, self.account, self.function_id, value)
                    status, body = response.status_code, response.json()
                    retry_after = response.headers.get("retry-after")
                except httpx.HTTPError as exc:
                    status, body, retry_after = 0, {"error": repr(exc)}, None
                call = Call(value, started, time.monotonic(), status, body, retry_after)
                with self._lock:
                    self.calls.append(call)
                time.sleep(self.pause_s)


def assert_every_call_accounted_for(calls: list[Call], *, longest_s: float) -> None:
    """200 with the right result, or an explicit 503/504, never slower than allowed."""
    values = [call.value for call in calls]
    assert len(values) == len(set(values))
    for call in calls:
        assert call.finished - call.started <= longest_s, call
        if call.status == 200:
            assert call.body == {"result": call.value + 1}, call
        elif call.status == 503:
            assert call.body["error"] in ("unavailable", "queue_full"), call
            assert call.retry_after is not None, call
        else:
            assert (call.status, call.body.get("error")) == (
                504,
                "deadline_exceeded",
            ), call


def rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and every process below it, in KiB."""
    total = 0
    for member in [pid, *descendants(pid)]:
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found


def report(measure: str, **values: object) -> None:
    """Log a measured figure; ``pytest --log-cli-level=INFO`` shows it."""
    logging.getLogger("tests.faults").info("%s %s", measure, values)
