"""The sandbox run by an unprivileged executor: workers keep the executor's uid,
so the layers other than the uid switch must hold on their own."""

import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOBODY = 65534
# The venv's interpreter lives under /root, which uid 65534 cannot enter; the
# system interpreter of the same minor version can load the venv's packages.
SYSTEM_PYTHON = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"

SCRIPT = """
import asyncio, json, os, sys
sys.path[:0] = json.loads(sys.argv[1])
from executors.sandbox import Sandbox, SandboxLimits
from shared.models import Function

ATTACKS = {
    "served": "return input + 1",
    "socket": "import socket\\nsocket.socket()",
    "fork": "import os\\nos.fork()",
    "environ": f"return open('/proc/{os.getpid()}/environ').read()",
    "kill_parent": "import os\\nos.kill(os.getppid(), 9)",
    "write_tmp": "open('/tmp/faas-nobody-pwned', 'w').write('x')",
    "memory": "return len(bytearray(1 << 32))",
    "loop": "while True:\\n    pass",
    "exit": "import os\\nos._exit(5)",
    "uid": "import os\\nreturn os.getuid()",
}

async def main():
    sandbox = Sandbox(SandboxLimits(spare_workers=1))
    await sandbox.start()
    report = {"landlock": sandbox.landlock_abi, "seccomp": sandbox.seccomp_enabled}
    for number, (name, code) in enumerate(ATTACKS.items(), start=1):
        function = Function(id=number, owner="o", name=name, code=code,
                            timeout_ms=500, memory_mb=64, created_at=0.0,
                            updated_at=0.0)
        outcome = await sandbox.run(function, b"1", timeout_s=0.5)
        report[name] = [outcome.ok, outcome.result.decode(), outcome.error,
                        outcome.message]
    await sandbox.close()
    print("REPORT " + json.dumps(report))

asyncio.run(main())
"""


def _run_as_nobody() -> dict[str, list[object]]:
    paths = [ROOT, *(p for p in sys.path if p.endswith("site-packages"))]
    command = [
        "setpriv",
        f"--reuid={NOBODY}",
        f"--regid={NOBODY}",
        "--clear-groups",
        SYSTEM_PYTHON,
        "-I",
        "-c",
        SCRIPT,
        json.dumps(paths),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=60, cwd="/", check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    assert lines, done.stdout + done.stderr
    return json.loads(lines[-1].removeprefix("REPORT "))  # type: ignore[no-any-return]


@pytest.mark.skipif(os.geteuid() != 0, reason="already unprivileged: suite covers it")
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv")
@pytest.mark.skipif(not os.path.exists(SYSTEM_PYTHON), reason=f"needs {SYSTEM_PYTHON}")
def test_attacks_fail_when_the_executor_runs_as_nobody() -> None:
    report = _run_as_nobody()
    if not report["landlock"] or not report["seccomp"]:
        pytest.skip(f"layers missing as nobody: {report}")

    denied = "PermissionError: [Errno 1] Operation not permitted"
    forbidden = "PermissionError: [Errno 13] Permission denied"
    assert report["served"] == [True, "2", None, None]
    assert report["uid"] == [True, str(NOBODY), None, None]
    assert report["socket"] == [False, "", "function_error", denied]
    assert report["fork"] == [False, "", "function_error", denied]
    assert report["kill_parent"] == [False, "", "function_error", denied]
    assert report["environ"][2:3] == ["function_error"]
    assert str(report["environ"][3]).startswith(forbidden)
    assert report["write_tmp"][2:3] == ["function_error"]
    assert str(report["write_tmp"][3]).startswith(forbidden)
    assert report["memory"][2:] == [
        "function_error",
        "MemoryError: over the function's memory limit (64 MiB)",
    ]
    assert report["loop"][2:] == ["timeout", "function exceeded its 0.5 s timeout"]
    assert report["exit"][2:] == ["worker_crashed", "worker exited with status 5"]
    assert not os.path.exists("/tmp/faas-nobody-pwned")
