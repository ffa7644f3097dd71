"""Verified tokens are remembered, but never past their expiry nor for other bytes."""

import time

import pytest

from gateway_api.auth import TokenService
from gateway_api.errors import UnauthorizedError

SECRET = "a-secret-of-at-least-thirty-two-bytes!"


def test_a_remembered_token_still_expires_on_time() -> None:
    tokens = TokenService(SECRET, issuer="jetfaas", ttl_s=3600)
    # Claims are whole seconds: expiry lands 0.5 to 1.5 s from now.
    issued = time.time() - 3600 + 1.5
    token = tokens.issue("ana", now=issued)
    expires_at = int(issued) + 3600

    assert tokens.verify(token) == "ana"
    assert tokens.verify(token) == "ana"
    time.sleep(max(0.0, expires_at - time.time()) + 0.05)

    with pytest.raises(UnauthorizedError) as raised:
        tokens.verify(token)
    assert raised.value.error_code == "token_expired"


def test_a_changed_signature_is_checked_even_after_the_genuine_token() -> None:
    tokens = TokenService(SECRET, issuer="jetfaas", ttl_s=3600)
    token = tokens.issue("ana")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    assert tokens.verify(token) == "ana"
    with pytest.raises(UnauthorizedError) as raised:
        tokens.verify(forged)
    assert raised.value.error_code == "token_invalid"
