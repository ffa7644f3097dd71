"""Passwords hashed with argon2 off the event loop, and HS256 tokens naming a user."""

import asyncio
import time
from typing import Any

import jwt
from passlib.context import CryptContext

from gateway_api.errors import UnauthorizedError

_ALGORITHM = "HS256"
_REQUIRED_CLAIMS = ["sub", "iat", "exp", "iss"]
# Tokens already verified, kept until they expire: a client sends the same token
# with every call, and checking its signature again costs more than a lookup.
_VERIFIED_TOKENS_MAX = 10_000

# OWASP's minimum for argon2id: 19 MiB, two passes, one lane. A login costs
# tens of milliseconds of one core, which bounds brute force without letting a
# burst of logins starve the gateway.
_passwords = CryptContext(
    schemes=["argon2"],
    argon2__type="ID",
    argon2__memory_cost=19_456,
    argon2__rounds=2,
    argon2__parallelism=1,
)
# Verified when the user does not exist, so that the answer takes as long.
_DECOY_HASH = _passwords.hash("decoy password, never valid")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_passwords.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Check ``password``; with no hash, spend the same time and answer False."""
    if password_hash is None:
        await asyncio.to_thread(_passwords.verify, password, _DECOY_HASH)
        return False
    return bool(await asyncio.to_thread(_passwords.verify, password, password_hash))


class TokenService:
    """Issues and verifies the HS256 tokens that authenticate API calls."""

    def __init__(self, secret: str, *, issuer: str, ttl_s: int) -> None:
        self._secret = secret
        self._issuer = issuer
        self._ttl_s = ttl_s
        self._verified: dict[str, tuple[str, float]] = {}

    def issue(self, username: str, *, now: float | None = None) -> str:
        issued_at = int(time.time() if now is None else now)
        claims = {
            "sub": username,
            "iat": issued_at,
            "exp": issued_at + self._ttl_s,
            "iss": self._issuer,
        }
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def verify(self, token: str) -> str:
        """Return the token's subject, from the cache of verified tokens if there.

        Raises:
            UnauthorizedError: for a forged, expired, malformed or unsigned token.
        """
        known = self._verified.get(token)
        if known is not None and time.time() < known[1]:
            return known[0]
        subject, expires_at = self._decode(token)

        if len(self._verified) >= _VERIFIED_TOKENS_MAX:
            self._verified.clear()
        self._verified[token] = (subject, expires_at)
        return subject

    def _decode(self, token: str) -> tuple[str, float]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                issuer=self._issuer,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise UnauthorizedError(
                "El token ha expirado", code="token_expired"
            ) from exc
        except jwt.InvalidTokenError as exc:
            raise UnauthorizedError("Token inválido", code="token_invalid") from exc

        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            raise UnauthorizedError("Token inválido", code="token_invalid")
        return subject, float(claims["exp"])

    def user_from_header(self, authorization: str | None) -> str:
        """Return the user named by an ``Authorization: Bearer`` header.

        Raises:
            UnauthorizedError: when the header is missing or its token is bad.
        """
        if not authorization:
            raise UnauthorizedError(
                "Falta el token de autorización", code="token_missing"
            )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise UnauthorizedError(
                "Cabecera Authorization inválida: use 'Bearer <token>'",
                code="token_invalid",
            )
        return self.verify(token.strip())
