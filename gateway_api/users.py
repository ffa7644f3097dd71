"""Registration and login, with users kept in the ``users`` bucket."""

import re
import time
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from gateway_api import auth
from gateway_api.bodies import decode_body
from gateway_api.errors import ConflictError, InvalidRequestError, UnauthorizedError
from gateway_api.responses import encode, json_response
from gateway_api.schemas import Credentials, credentials_decoder
from shared.models import User, user_decoder

# Usernames are KV keys: a dot may not start or end one, nor follow another.
USERNAME_RULE = re.compile(
    r"(?!.*\.\.)[A-Za-z0-9_\-][A-Za-z0-9_.\-]{1,62}[A-Za-z0-9_\-]"
)
PASSWORD_MIN, PASSWORD_MAX = 8, 1024

REGISTERED = encode({"message": "Usuario registrado exitosamente"})


class UserStore:
    """Users by name in a KV bucket; a name is taken by whoever creates it first."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def create(self, user: User) -> None:
        """Store a new user.

        Raises:
            ConflictError: when the name is taken.
        """
        try:
            await self._kv.create(user.username, msgspec.json.encode(user))
        except KeyWrongLastSequenceError as exc:
            raise ConflictError(
                "El nombre de usuario ya está registrado", code="username_taken"
            ) from exc

    async def get(self, username: str) -> User | None:
        try:
            entry = await self._kv.get(username)
        except KeyNotFoundError:
            return None
        return user_decoder.decode(entry.value) if entry.value else None


def check_credentials_rules(credentials: Credentials) -> None:
    """Raises InvalidRequestError naming the rule a new username or password breaks."""
    if not USERNAME_RULE.fullmatch(credentials.username):
        raise InvalidRequestError(
            "El nombre de usuario debe tener de 3 a 64 caracteres: letras, dígitos, "
            "'_', '.' o '-', sin empezar ni terminar en '.' ni repetir '..'",
            code="invalid_username",
        )
    if not PASSWORD_MIN <= len(credentials.password) <= PASSWORD_MAX:
        raise InvalidRequestError(
            f"La contraseña debe tener de {PASSWORD_MIN} a {PASSWORD_MAX} caracteres",
            code="invalid_password",
        )


def user_routes(users: UserStore, tokens: auth.TokenService) -> list[HTTPRouteHandler]:
    """The ``/auth`` handlers, bound to their store and token service."""

    @post("/auth/register", status_code=201, summary="Register a user")
    async def register(request: Request[Any, Any, Any]) -> Response[bytes]:
        credentials = await decode_body(request, credentials_decoder)
        check_credentials_rules(credentials)

        password_hash = await auth.hash_password(credentials.password)
        user = User(
            username=credentials.username,
            password_hash=password_hash,
            created_at=time.time(),
        )
        await users.create(user)
        return json_response(REGISTERED, 201)

    @post("/auth/login", status_code=200, summary="Log in and get a token")
    async def login(request: Request[Any, Any, Any]) -> Response[bytes]:
        credentials = await decode_body(request, credentials_decoder)

        user = None
        if USERNAME_RULE.fullmatch(credentials.username):
            user = await users.get(credentials.username)
        password_hash = user.password_hash if user else None
        if not await auth.verify_password(
            credentials.password[:PASSWORD_MAX], password_hash
        ):
            raise UnauthorizedError(
                "Usuario o contraseña incorrectos", code="invalid_credentials"
            )

        return json_response(encode({"token": tokens.issue(credentials.username)}))

    return [register, login]
