"""Fixtures that start the real platform: nats-server, the gateway and executors."""

from collections.abc import Iterator

import httpx
import pytest

from tests.api import Account, register
from tests.harness import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One platform shared by the tests that do not need a fresh one."""
    with Stack(tmp_path_factory.mktemp("stack"), executors=2) as running:
        yield running


@pytest.fixture(scope="session")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        yield client


@pytest.fixture
def account(api: httpx.Client) -> Account:
    return register(api)


@pytest.fixture
def other_account(api: httpx.Client) -> Account:
    return register(api)


@pytest.fixture(scope="session")
def bare_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """nats-server and a gateway with no executor: for tests of the HTTP surface."""
    with Stack(tmp_path_factory.mktemp("bare"), executors=0) as running:
        yield running


@pytest.fixture(scope="session")
def bare_api(bare_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=bare_stack.base_url, timeout=30) as client:
        yield client


@pytest.fixture
def bare_account(bare_api: httpx.Client) -> Account:
    return register(bare_api)
