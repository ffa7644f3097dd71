"""The Dockerfile read as text: stages, user, health check, what ships."""

import re

from tests.deploy.files import DOCKERFILE, service
from tests.harness import ROOT

COMPILERS = re.compile(r"\b(build-essential|gcc|g\+\+|clang|make|[\w.+-]+-dev)\b")


def stages() -> list[list[str]]:
    """Instructions (continuations joined, comments dropped) of each stage."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in joined.splitlines()]
    found: list[list[str]] = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            found.append([])
        if found:
            found[-1].append(line)
    return found


def instructions(stage: list[str], keyword: str) -> list[str]:
    return [line for line in stage if line.upper().startswith(keyword + " ")]


def test_build_happens_in_a_stage_of_its_own() -> None:
    builder, final = stages()[0], stages()[-1]

    assert len(stages()) >= 2
    assert " AS builder" in builder[0]
    assert any("requirements.lock" in line for line in instructions(builder, "RUN"))
    assert any("--from=builder" in line for line in instructions(final, "COPY"))


def test_base_is_slim_python_3_11() -> None:
    base = re.compile(r"^ARG PYTHON_IMAGE=python:3\.11-slim", re.M)

    assert base.search(DOCKERFILE.read_text())


def test_final_stage_runs_as_a_non_root_user() -> None:
    """The gateway runs as the image's user; the executor is the one service
    that overrides it, in docker-compose.yaml, with its reasons documented."""
    users = instructions(stages()[-1], "USER")

    assert users
    user = users[-1].split()[1].split(":")[0]
    assert user not in {"0", "root"}
    assert "user" not in service("api-server")
    assert "root" in (ROOT / "docs" / "deployment.md").read_text()


def test_final_stage_has_a_healthcheck_and_the_gateway_command() -> None:
    final = stages()[-1]

    assert instructions(final, "HEALTHCHECK")
    assert instructions(final, "CMD")[-1].endswith('["python", "-m", "gateway_api"]')


def test_final_stage_installs_no_build_tools() -> None:
    for line in instructions(stages()[-1], "RUN"):
        assert not COMPILERS.search(line), line


def test_copied_sources_exist_and_secrets_stay_out_of_the_context() -> None:
    for line in instructions(stages()[-1], "COPY"):
        if "--from=" not in line:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source

    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", ".git"} <= set(ignored)
