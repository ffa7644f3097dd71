"""The launcher's supervisor: children started, restarted when they die, stopped."""

import asyncio
import os
import signal
import sys
from pathlib import Path

from localstack.supervisor import Child, Supervisor


def _child(name: str, code: str) -> Child:
    return Child(name, [sys.executable, "-c", code], dict(os.environ))


def test_a_child_that_dies_is_reported_and_started_again(tmp_path: Path) -> None:
    """Each start appends a line; the child exits at once, so it is restarted."""
    marker = tmp_path / "starts"
    dying = _child("dying", f"open({str(marker)!r}, 'a').write('x\\n'); exit(3)")
    supervisor = Supervisor([dying])

    async def scenario() -> None:
        running = asyncio.create_task(supervisor.run())
        while not marker.exists() or len(marker.read_text().splitlines()) < 2:
            await asyncio.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(running, 20)

    asyncio.run(scenario())

    assert dying.restarts >= 1
    assert len(marker.read_text().splitlines()) >= 2


def test_stopping_terminates_every_child_in_reverse_order(tmp_path: Path) -> None:
    order = tmp_path / "order"
    code = (
        "import signal, sys, time\n"
        "def stop(*_):\n"
        f"    open({str(order)!r}, 'a').write(sys.argv[1] + '\\n')\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    children = [
        Child(name, [sys.executable, "-c", code, name], dict(os.environ))
        for name in ("first", "second", "third")
    ]
    supervisor = Supervisor(children)

    async def scenario() -> None:
        running = asyncio.create_task(supervisor.run())
        await asyncio.sleep(1.0)
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.wait_for(running, 20)

    asyncio.run(scenario())

    assert order.read_text().splitlines() == ["third", "second", "first"]
    assert all(child.process and child.process.returncode == 0 for child in children)
