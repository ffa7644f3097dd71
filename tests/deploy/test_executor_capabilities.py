"""The executor container's capability set, tried on the real sandbox: root
with only those capabilities, no CAP_SYS_ADMIN, and no_new_privs, as in
docker-compose.yaml."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from executors.sandbox import SandboxLimits
from tests.deploy.files import service
from tests.harness import ROOT

SCRIPT = """
import asyncio, json, os, sys
from executors.sandbox import Sandbox, SandboxLimits
from shared.models import Function

CODES = {
    "served": "return input + 1",
    "uid": "import os\\nreturn os.getuid()",
    "writes": "open('f', 'w').write('x' * 1000)\\nreturn 1",
    "loops": "while True:\\n    pass",
}

async def main(scratch):
    sandbox = Sandbox(SandboxLimits(spare_workers=1, scratch_root=scratch))
    await sandbox.start()
    report = {}
    for number, (name, code) in enumerate(CODES.items(), start=1):
        function = Function(id=number, owner="o", name=name, code=code,
                            timeout_ms=500, memory_mb=64, created_at=0.0,
                            updated_at=0.0)
        outcome = await sandbox.run(function, b"1", timeout_s=0.5)
        report[name] = [outcome.result.decode(), outcome.error]
    await sandbox.close()
    report["left"] = os.listdir(scratch)
    sys.stdout.write("REPORT " + json.dumps(report) + "\\n")

asyncio.run(main(sys.argv[1]))
"""


def run_with_container_capabilities(scratch: Path) -> dict[str, list[str]]:
    added = service("executor")["cap_add"]
    capabilities = ",".join("+" + name.lower() for name in added)
    command = [
        "setpriv",
        f"--bounding-set=-all,{capabilities}",
        "--inh-caps=-all",
        "--no-new-privs",
        sys.executable,
        "-c",
        SCRIPT,
        str(scratch),
    ]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("REPORT ")]
    assert lines, result.stdout + result.stderr
    report: dict[str, list[str]] = json.loads(lines[-1].removeprefix("REPORT "))
    return report


def test_the_sandbox_works_with_only_the_containers_capabilities(
    tmp_path: Path,
) -> None:
    """Functions run under their own uid, a runaway is killed at its timeout,
    and every scratch dir is removed afterwards."""
    if os.geteuid() != 0:
        pytest.skip("needs root, as the executor container has")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    scratch = tmp_path / "scratch"
    scratch.mkdir(mode=0o711)

    report = run_with_container_capabilities(scratch)

    assert report["served"] == ["2", None]
    assert report["uid"] == [str(SandboxLimits().uid_for(2)), None]
    assert report["writes"] == ["1", None]
    assert report["loops"] == ["", "timeout"]
    assert report["left"] == []
